"""The admin works in the clinic's zone: the front desk types and reads wall-clock times; with
a read replica, a browser that just wrote reads from the primary."""

import time
import zoneinfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from booking import routing


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


# The browser's mark: until this Unix time, read from the primary (set on every POST).
READ_PRIMARY_COOKIE = "read_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class ReadYourWritesMiddleware:
    """Read-your-writes with a replica: a request that may write (POST, PUT, PATCH, DELETE)
    reads only from the primary and marks the browser with a cookie, so that for
    DATABASE_REPLICA_STICKY_SECONDS its next pages (the booking just made, the calendar just
    changed) read from the primary too, even where reads_from_replica() is asked for. Does
    nothing without a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not routing.replica_configured():
            return self.get_response(request)
        now = time.time()
        writes = request.method not in SAFE_METHODS
        try:
            marked = float(request.COOKIES.get(READ_PRIMARY_COOKIE, "0")) > now
        except ValueError:
            marked = False
        with routing.pinned_to_primary(writes or marked):
            response = self.get_response(request)
        if writes:
            seconds = settings.DATABASE_REPLICA_STICKY_SECONDS
            response.set_cookie(
                READ_PRIMARY_COOKIE,
                str(int(now + seconds) + 1),
                max_age=seconds + 1,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


# The signed-in patient's language, kept in the session at sign-in and by the switcher so that
# no page pays a query for it (skinclinic.languages).
SESSION_LANGUAGE = "patient_language"


class PatientLanguageMiddleware:
    """After LocaleMiddleware: a signed-in patient's pages are in their stored language, whatever
    the browser asks for (a shared tablet, a phone set to English)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_LANGUAGE)
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
