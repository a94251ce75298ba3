from django.urls import path

from . import views

urlpatterns = [
    path("treatments/", views.catalogue, name="treatment_list"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment_detail"),
]
