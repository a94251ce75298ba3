from django.contrib import admin
from django.urls import include, path

from booking import notifications
from booking.ratelimit import limit_failed_sign_ins
from skinclinic.health import healthz
from treatments import views as treatment_views

urlpatterns = [
    path("", treatment_views.home, name="home"),
    path("", include("treatments.urls")),
    path("api/v1/", include("api.urls")),
    path("staff/reports/", include("booking.report_urls")),
    path("staff/", include("charts.urls")),  # before the desk's staff/ pages in booking.urls
    path("", include("booking.urls")),
    # The admin's own sign-in counts failures like the patients' one.
    path("admin/login/", limit_failed_sign_ins(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("visits/confirm/<str:token>/", notifications.visit_confirm, name="visit_confirm"),
    path("sms/inbound/", notifications.sms_inbound, name="sms_inbound"),
    path("staff/messages/failed/", notifications.failed_messages, name="failed_messages"),
    path("staff/messages/<int:pk>/retry/", notifications.retry_message, name="retry_message"),
]
