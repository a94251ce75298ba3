"""The admin works in the clinic's zone: the front desk types and reads wall-clock times."""

import zoneinfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone


def admin_prefix() -> str:
    return reverse("admin:index")


class AdminTimeZoneMiddleware:
    """Activate settings.CLINIC_TIME_ZONE for /admin/ requests; everything else stays UTC
    (stored instants are always UTC; the patient and staff pages use each location's zone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(admin_prefix()):
            with timezone.override(zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)):
                return self.get_response(request)
        return self.get_response(request)
