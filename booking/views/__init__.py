"""Views: patient.py (booking flow and portal), accounts.py (sign up, sign in), staff views.

Shared here: per-IP rate limits counted in Django's cache (Redis in production, so every web
process sees the same counts) and the friendly 429 page they answer with.
"""

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

# scope -> (attempts allowed, per this many seconds); settings.RATE_LIMITS overrides.
DEFAULT_RATE_LIMITS = {
    "sign-in": (10, 15 * 60),  # failed sign-ins
    "sign-up": (10, 60 * 60),  # sign-ups and password resets: each sends an email
    "booking": (10, 60 * 60),  # booking confirmations
}


def _limit(scope: str) -> tuple[int, int]:
    return {**DEFAULT_RATE_LIMITS, **getattr(settings, "RATE_LIMITS", {})}[scope]


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "unknown")


def _key(request, scope: str) -> str:
    return f"rate:{scope}:{client_ip(request)}"


def count_attempt(request, scope: str) -> int:
    """Count one attempt from this IP in the current window; return the count so far."""
    key = _key(request, scope)
    cache.add(key, 0, timeout=_limit(scope)[1])
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=_limit(scope)[1])
        return 1


def over_limit(request, scope: str) -> bool:
    """Count this attempt; True when it is one too many for the window."""
    return count_attempt(request, scope) > _limit(scope)[0]


def is_limited(request, scope: str) -> bool:
    """True when this IP has used up its attempts for the current window."""
    return cache.get(_key(request, scope), 0) >= _limit(scope)[0]


def too_many_requests(request, scope: str):
    minutes = max(1, _limit(scope)[1] // 60)
    return render(request, "booking/too_many.html", {"minutes": minutes}, status=429)
