"""/api/v1/: the JSON API (api.views), its OpenAPI schema and its Swagger UI."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.ratelimit import limit_failed_sign_ins
from api import views
from booking.routing import reads_from_replica

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # Relative, so the docs find the schema however this module is included or namespaced.
    # The split view serves its script from a URL instead of inline, as the CSP requires.
    path("docs/", SpectacularSwaggerSplitView.as_view(url="../schema/"), name="api_docs"),
    path(
        "auth/token/",
        limit_failed_sign_ins(views.obtain_token, failed_status=400),
        name="api_token",
    ),
    path("treatments/", views.treatment_list, name="api_treatments"),
    path("locations/", views.location_list, name="api_locations"),
    # Free times may come from the read replica (booking.routing); the booking re-checks.
    path(
        "availability/",
        reads_from_replica()(views.availability_list),
        name="api_availability",
    ),
    path("plans/preview/", views.plan_preview, name="api_plan_preview"),
    path("plans/", views.plan_create, name="api_plans"),
    path("appointments/", views.appointment_list, name="api_appointments"),
    path("appointments/<int:pk>/", views.appointment_detail, name="api_appointment"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="api_appointment_cancel"),
    path(
        "appointments/<int:pk>/reschedule/",
        views.appointment_reschedule,
        name="api_appointment_reschedule",
    ),
    re_path(r"^", views.not_found),
]
