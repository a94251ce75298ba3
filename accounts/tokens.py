"""API tokens, one per device (django-rest-knox's AuthToken, with its TokenDevice's name).

Only a digest is stored; the token itself is shown once. A token expires after
REST_KNOX["TOKEN_TTL"] and is revoked by signing out of it (the API's auth/logout/), by
signing out everywhere (auth/logoutall/), from the account's token page, or by any change or
reset of the password (RevokeApiTokensOnPasswordChange below).
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from accounts.models import TokenDevice


class TooManyTokens(Exception):
    """The account already has as many live tokens as REST_KNOX["TOKEN_LIMIT_PER_USER"]."""

    def __init__(self, limit: int):
        super().__init__(
            f"This account already has {limit} API tokens. Revoke one you no longer use "
            "(GET /api/v1/auth/tokens/, or the API tokens page of your account) first."
        )


def live_tokens(user) -> QuerySet[AuthToken]:
    """The user's tokens that have not expired, newest first, with their devices."""
    now = timezone.now()
    return (
        AuthToken.objects.filter(user=user)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .select_related("device")
        .order_by("-created")
    )


@transaction.atomic
def issue_token(user, *, name: str) -> tuple[AuthToken, str]:
    """A new token for one device; returns the row and the token (shown only this once)."""
    # Lock the account's row so that parallel requests cannot go past the limit together.
    type(user).objects.select_for_update().filter(pk=user.pk).first()
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and live_tokens(user).count() >= limit:
        raise TooManyTokens(limit)
    token, secret = AuthToken.objects.create(user=user)
    TokenDevice.objects.create(token=token, name=name[:200])
    return token, secret


def revoke_token(user, token_key: str) -> bool:
    """Revoke the user's token named by its first characters; False if there is none."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted > 0


def revoke_all_tokens(user) -> int:
    """Revoke every token of the user (sign out of every device); return how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


class RevokeApiTokensOnPasswordChange:
    """Listed in AUTH_PASSWORD_VALIDATORS for its password_changed hook, which Django calls
    whenever a password is set and saved (change, reset, admin, `changepassword`) but not
    when a stored hash is merely upgraded. It validates nothing."""

    def validate(self, password: str, user=None) -> None:
        return None

    def password_changed(self, password: str, user=None) -> None:
        if user is not None and user.pk is not None:
            revoke_all_tokens(user)

    def get_help_text(self) -> str:
        return "Changing your password signs out every app that uses your account's API tokens."


__all__ = [
    "RevokeApiTokensOnPasswordChange",
    "TooManyTokens",
    "issue_token",
    "live_tokens",
    "revoke_all_tokens",
    "revoke_token",
]
