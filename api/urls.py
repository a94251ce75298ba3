"""/api/v1/: the JSON API (api.views), its OpenAPI schema and its Swagger UI."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import views
from booking.routing import reads_from_replica

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # Relative, so the docs find the schema however this module is included or namespaced.
    # The split view serves its script from a URL instead of inline, as the CSP requires.
    path("docs/", SpectacularSwaggerSplitView.as_view(url="../schema/"), name="api_docs"),
    # Sign-in limits per account and per address are counted inside obtain_token.
    path("auth/token/", views.obtain_token, name="api_token"),
    path("auth/logout/", views.logout, name="api_logout"),
    path("auth/logoutall/", views.logout_all, name="api_logout_all"),
    path("auth/tokens/", views.token_list, name="api_tokens"),
    path("auth/tokens/<str:key>/", views.token_revoke, name="api_token_revoke"),
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
    path("appointments/<int:pk>/status/", views.appointment_status, name="api_appointment_status"),
    path(
        "appointments/<int:pk>/reschedule/",
        views.appointment_reschedule,
        name="api_appointment_reschedule",
    ),
    re_path(r"^", views.not_found),
]
