"""Sign-in by a one-time code sent to the patient's email (passwords are optional).

A code is 6 random digits, valid for CODE_MINUTES and for MAX_TRIES guesses, then dead; a new
request replaces it. Only its salted SHA-256 digest is kept, in Django's cache (Redis in
production: every web process sees it) under the account's id. Staff accounts never get a
code: they sign in with their password and the second step. Proving the mailbox also proves
an account still waiting for its sign-up link (booking.services.complete_sign_up), so the
code activates it.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache

CODE_MINUTES = 10
MAX_TRIES = 5


def _key(user) -> str:
    return f"login-code:{user.pk}"


def _digest(user, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{user.pk}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def may_use_codes(user) -> bool:
    """Patients only: staff keep password + two-step sign-in."""
    return not (user.is_staff or user.is_superuser or user.groups.exists())


def issue_code(user) -> str:
    """A new code for `user` (the previous one dies); the caller sends it."""
    code = f"{secrets.randbelow(10**6):06d}"
    cache.set(_key(user), {"digest": _digest(user, code), "tries": 0}, CODE_MINUTES * 60)
    return code


def check_code(user, code: str) -> bool:
    """True once for the right code; wrong guesses count, and the MAX_TRIES-th kills it."""
    entry = cache.get(_key(user))
    code = "".join(code.split())
    if not entry:
        return False
    if hmac.compare_digest(entry["digest"], _digest(user, code)):
        cache.delete(_key(user))
        return True
    entry["tries"] += 1
    if entry["tries"] >= MAX_TRIES:
        cache.delete(_key(user))
    else:
        cache.set(_key(user), entry, CODE_MINUTES * 60)
    return False
