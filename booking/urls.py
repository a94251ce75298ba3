from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("booking.api_urls")),
    path("staff/reports/", include("booking.report_urls")),
    path("staff/", include("booking.aesthetician_urls")),
    path("staff/", include("booking.staff_urls")),
]
