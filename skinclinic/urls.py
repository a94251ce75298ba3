from django.contrib import admin
from django.urls import include, path

from accounts.ratelimit import limit_failed_sign_ins
from skinclinic import icons, languages
from skinclinic.health import healthz
from treatments import views as treatment_views

urlpatterns = [
    path("", treatment_views.home, name="home"),
    path("", include("treatments.urls")),
    path("api/v1/", include("api.urls")),
    path("staff/reports/", include("desk.report_urls")),
    path("staff/", include("charts.urls")),
    path("", include("photos.urls")),
    path("", include("consent.urls")),
    path("staff/", include("payments.desk_urls")),
    path("staff/", include("desk.urls")),
    path("", include("payments.urls")),
    path("", include("portal.urls")),
    path("", include("accounts.urls")),
    # The admin's own sign-in counts failures like the patients' one.
    path("admin/login/", limit_failed_sign_ins(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("notifications.urls")),
    path("", include("calendars.urls")),
    path("favicon.ico", icons.favicon, name="favicon"),
    path("language/", languages.switch_language, name="switch_language"),
]

# The friendly error pages (skinclinic.errors).
handler403 = "skinclinic.errors.permission_denied"
handler404 = "skinclinic.errors.page_not_found"
handler500 = "skinclinic.errors.server_error"
