"""Per-IP rate limits, counted in Django's cache (Redis in production, so every web process
sees the same counts).

If the cache cannot be reached the request is let through and a warning logged: a Redis
outage must not lock every patient out of signing in.
"""

import logging
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# scope -> (attempts allowed, per this many seconds); settings.RATE_LIMITS overrides.
DEFAULT_RATE_LIMITS = {
    "sign-in": (10, 15 * 60),  # failed sign-ins
    "sign-up": (10, 60 * 60),  # sign-ups and password resets: each sends an email
    "booking": (10, 60 * 60),  # booking confirmations
}


def _limit(scope: str) -> tuple[int, int]:
    return {**DEFAULT_RATE_LIMITS, **getattr(settings, "RATE_LIMITS", {})}[scope]


def client_ip(request) -> str:
    """The client's address. Behind N trusted proxies (settings.TRUSTED_PROXY_COUNT), the
    address the outermost of them saw, from X-Forwarded-For; a client can prepend anything
    to that header, so only the entries the proxies appended are believed."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def _key(request, scope: str) -> str:
    return f"rate:{scope}:{client_ip(request)}"


def count_attempt(request, scope: str) -> int:
    """Count one attempt from this IP in the current window; return the count so far."""
    key = _key(request, scope)
    window = _limit(scope)[1]
    try:
        cache.add(key, 0, timeout=window)
        try:
            return cache.incr(key)
        except ValueError:  # the window expired between add and incr
            cache.set(key, 1, timeout=window)
            return 1
    except Exception:  # the cache backends raise their own connection errors
        logger.warning("Rate limit cache unreachable; letting %s through", scope, exc_info=True)
        return 0


def over_limit(request, scope: str) -> bool:
    """Count this attempt; True when it is one too many for the window."""
    return count_attempt(request, scope) > _limit(scope)[0]


def is_limited(request, scope: str) -> bool:
    """True when this IP has used up its attempts for the current window."""
    try:
        return cache.get(_key(request, scope), 0) >= _limit(scope)[0]
    except Exception:
        logger.warning("Rate limit cache unreachable; letting %s through", scope, exc_info=True)
        return False


def too_many_requests(request, scope: str):
    minutes = max(1, _limit(scope)[1] // 60)
    if request.path.startswith("/api/"):
        detail = f"Too many attempts from your address. Try again in {minutes} minutes."
        return JsonResponse({"detail": detail}, status=429)
    return render(request, "accounts/too_many.html", {"minutes": minutes}, status=429)


def limit_failed_sign_ins(view, *, failed_status: int = 200):
    """Wrap a sign-in view that answers a failed POST with `failed_status` (a re-shown form,
    or 400 from an API): refuse an IP with too many recent failures, count each failure."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and is_limited(request, "sign-in"):
            return too_many_requests(request, "sign-in")
        response = view(request, *args, **kwargs)
        if request.method == "POST" and response.status_code == failed_status:
            count_attempt(request, "sign-in")
        return response

    return wrapped
