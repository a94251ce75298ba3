"""The aesthetician's pages under /staff/: the day sheet and the treatment chart of a visit."""

from django.urls import path

from charts import views

urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("visits/<int:pk>/chart/", views.chart, name="visit_chart"),
    path("visits/<int:pk>/chart/correct/", views.chart_correct, name="visit_chart_correct"),
]
