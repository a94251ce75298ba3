"""Rate limits: attempts per IP, and failed sign-ins per account, counted in fixed windows.

Counts live in Django's cache (Redis in production, so every web process sees the same ones)
and are counted atomically: a key per window (`rate:<scope>:<who>:<window number>`), created
by cache.add and raised by cache.incr (Redis INCR), so sixty parallel attempts get sixty
different numbers and only the first `limit` are let through. A key outlives its window
slightly, so it never expires while it is still being counted.

Sign-ins count against the address and the account before the password is checked, and a
success gives its attempt back: failures from one address beyond the per-IP limit are refused
(set higher, for a clinic's shared Wi-Fi), and so are failures for one account beyond the
per-account limit, however many addresses they come from.

If the cache cannot be reached, the counts go to the database instead (SignInCounter, one
INSERT ... ON CONFLICT DO UPDATE per attempt), so a Redis outage does not lift the limits.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.models import SignInCounter

logger = logging.getLogger(__name__)

# scope -> (attempts allowed, per this many seconds); settings.RATE_LIMITS overrides.
DEFAULT_RATE_LIMITS = {
    "sign-in": (50, 15 * 60),  # failed sign-ins from one IP
    "sign-in-account": (10, 15 * 60),  # failed sign-ins for one account, from anywhere
    "sign-up": (10, 60 * 60),  # sign-ups and password resets: each sends an email
    "booking": (10, 60 * 60),  # booking confirmations
}
KEY_SLACK = 60  # seconds a window's key outlives it (clock differences between web hosts)


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


def account_id(username: str) -> str:
    """Who a sign-in is for, as counted: the name typed, ignoring case and outer spaces
    (hashed, so keys hold no personal data and no odd characters)."""
    return hashlib.sha256(username.strip().casefold().encode(errors="replace")).hexdigest()[:32]


@dataclass(frozen=True)
class Counter:
    """One scope's count for one address or account in the current window."""

    scope: str
    who: str
    now: float

    @property
    def limit(self) -> int:
        return _limit(self.scope)[0]

    @property
    def window(self) -> int:
        return _limit(self.scope)[1]

    @property
    def key(self) -> str:
        return f"rate:{self.scope}:{self.who}:{int(self.now // self.window)}"

    @property
    def retry_after(self) -> int:
        """Seconds until this window ends and the count starts again."""
        return max(1, int(self.window - self.now % self.window))

    def add(self) -> int:
        """Count one attempt; return the count so far in this window, this one included."""
        try:
            cache.add(self.key, 0, timeout=self.window + KEY_SLACK)
            return cache.incr(self.key)
        except Exception:  # the cache backends raise their own connection errors
            logger.warning("Rate limit cache unreachable; counting %s in the database", self.scope)
            return _database_add(self.key, expires_at=int(self.now) + self.window + KEY_SLACK)

    def give_back(self) -> None:
        """Take back one attempt counted with add() (it turned out to be a success)."""
        try:
            cache.decr(self.key)
        except ValueError:  # the key is gone: nothing to take back
            pass
        except Exception:
            SignInCounter.objects.filter(key=self.key, count__gt=0).update(count=F("count") - 1)


def _database_add(key: str, *, expires_at: int) -> int:
    """One atomic statement: the row for `key` is created at 1 or raised by 1, and the new
    count returned, whoever else is counting at the same moment (PostgreSQL and SQLite)."""
    table = connection.ops.quote_name(SignInCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE expires_at < %s", [int(time.time())])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} (key, count, expires_at) VALUES (%s, 1, %s) "  # noqa: S608
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key, expires_at],
        )
        return cursor.fetchone()[0]


def over_limit(request, scope: str) -> bool:
    """Count this attempt from the request's address; True when it is one too many."""
    counter = Counter(scope, client_ip(request), time.time())
    return counter.add() > counter.limit


class SignInAttempt:
    """One sign-in, counted against its address and its account before the password is
    checked (so parallel attempts cannot all slip in before the first failure is counted)."""

    def __init__(self, request, username: str):
        now = time.time()
        self.counters = [
            Counter("sign-in", client_ip(request), now),
            Counter("sign-in-account", account_id(username), now),
        ]
        self.refused_by: Counter | None = None

    def refused(self) -> bool:
        """Count the attempt; True when the address or the account has used up its tries."""
        for counter in self.counters:
            if counter.add() > counter.limit and self.refused_by is None:
                self.refused_by = counter
        return self.refused_by is not None

    def succeeded(self) -> None:
        """The password was right: a success does not use up a try."""
        for counter in self.counters:
            counter.give_back()

    def too_many(self, request):
        assert self.refused_by is not None
        return too_many_requests(request, self.refused_by)


def too_many_requests(request, counter: Counter | str):
    """429 with Retry-After: JSON with a reason under /api/, else a page."""
    if isinstance(counter, str):
        counter = Counter(counter, client_ip(request), time.time())
    minutes = max(1, -(-counter.retry_after // 60))
    response: HttpResponse
    if request.path.startswith("/api/"):
        whose = "this account" if counter.scope == "sign-in-account" else "your address"
        detail = f"Too many attempts for {whose}. Try again in {minutes} minutes."
        response = JsonResponse({"detail": detail}, status=429)
    else:
        response = render(request, "accounts/too_many.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(counter.retry_after)
    return response


def limit_failed_sign_ins(view, *, failed_status: int = 200):
    """Wrap a sign-in view (the admin's) that answers a failed POST with `failed_status`:
    count each POST against its address and account first, refuse one too many, and give
    the attempt back when it succeeds."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        attempt = SignInAttempt(request, request.POST.get("username", ""))
        if attempt.refused():
            return attempt.too_many(request)
        response = view(request, *args, **kwargs)
        if response.status_code != failed_status:
            attempt.succeeded()
        return response

    return wrapped
