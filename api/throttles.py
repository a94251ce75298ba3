"""Scoped request limits of the API (DRF's ScopedRateThrottle): bookings, plans and token
requests, per signed-in account or else per IP, at the rates of REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES (API_THROTTLE_* variables). Too many answers 429 with Retry-After.
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's scoped throttle, counting only requests that change or compute something (reads
    of the same view are free), and letting requests through if the cache is unreachable: a
    Redis outage must not stop bookings (sign-ins have their own limit, which holds then)."""

    def get_rate(self):
        # DRF binds THROTTLE_RATES when the class is defined; read the setting each time
        # instead, so a changed REST_FRAMEWORK setting (tests, reloads) takes effect.
        rates: dict = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No throttle rate for the scope {self.scope!r}.")
        return rates[self.scope]

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backends raise their own connection errors
            logger.warning("API throttle cache unreachable; letting the request through")
            return True


def throttled(scope: str):
    """Give a function view (made with @api_view) a scope of DEFAULT_THROTTLE_RATES."""

    def decorate(view):
        view.cls.throttle_scope = scope
        view.cls.throttle_classes = [ScopedRateThrottle]
        return view

    return decorate
