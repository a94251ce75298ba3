from django.urls import include, path

urlpatterns = [
    path("staff/", include("booking.staff_urls")),
    path("", include("booking.patient_urls")),
]
