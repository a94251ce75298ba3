"""Photo URLs: staff pages under /staff/, the patient's progress under /my/, and the one
access-checked view that sends a photo (/photos/<signed link>)."""

from django.urls import path

from photos import views

app_name = "photos"

urlpatterns = [
    path("staff/visits/<int:pk>/photos/", views.visit_photos, name="visit"),
    path("staff/photos/<int:pk>/shareable/", views.photo_shareable, name="shareable"),
    path("staff/plans/<int:pk>/progress/", views.plan_progress, name="plan_progress"),
    path("staff/patients/<int:pk>/export/", views.export, name="export"),
    path("my/plans/<int:pk>/progress/", views.my_progress, name="my_progress"),
    path("photos/<str:token>/", views.serve, name="serve"),
]
