from django.urls import path

from charts import views as aesthetician

urlpatterns = [
    path("my-day/", aesthetician.my_day, name="my_day"),
    path("visits/<int:pk>/chart/", aesthetician.chart, name="visit_chart"),
    path("visits/<int:pk>/chart/correct/", aesthetician.chart_correct, name="visit_chart_correct"),
]
