"""Online sign-up: a new account waits, inactive and without a password, as a
`booking.models.PendingSignUp` until its emailed link is used to choose a password.

Only that row makes an inactive account activatable: an account staff deactivated has none,
so signing up with its email is answered like any known email and no link can revive it.
A waiting sign-up keeps what was first entered until it is activated or expires
(`PendingSignUp.expires_at`); asking again only re-sends the link, and after expiry a new
sign-up starts over on the same account and patient record. One new email signed up by many
requests at once makes one account: the unique username decides, the losers re-send.
"""

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy

from booking.models import PendingSignUp
from booking.services.errors import SignUpClosed
from booking.services.patients import link_online_account, record_sign_up

__all__ = [
    "SignUp",
    "SignUpOutcome",
    "account_for_email",
    "complete_sign_up",
    "pending_sign_up",
    "sign_up_started_at",
    "start_sign_up",
]

LINK_CLOSED = gettext_lazy("This link has expired or was already used.")


class SignUpOutcome(enum.Enum):
    NEW = "new"  # a new (or started over) sign-up: email a link to choose a password
    PENDING = "pending"  # already waiting: email the link again, nothing else changes
    KNOWN = "known"  # an account exists, active or deactivated: email a "you have one" note


@dataclass(frozen=True)
class SignUp:
    user: User
    outcome: SignUpOutcome

    @property
    def sends_link(self) -> bool:
        return self.outcome is not SignUpOutcome.KNOWN


def account_for_email(email: str) -> User | None:
    """The account signing in with `email` (as username or email, in any case), if any."""
    return (
        User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
        .order_by("pk")
        .first()
    )


def start_sign_up(*, now: datetime, **details: Any) -> SignUp:
    """Sign up with `details` (booking.services.SIGN_UP_FIELDS). The caller emails the user
    a link when `sends_link`, else a note that they already have an account; the page
    answers the same either way."""
    email = details["email"] = details["email"].strip().lower()
    user = account_for_email(email)
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=email,
                    email=email,
                    first_name=details["first_name"],
                    last_name=details["last_name"],
                    is_active=False,
                )
                PendingSignUp.objects.create(user=user, started_at=now)
                record_sign_up(user, now=now, **details)
            return SignUp(user, SignUpOutcome.NEW)
        except IntegrityError:
            # A simultaneous sign-up of the same email won the unique username.
            user = account_for_email(email)
            if user is None:
                raise
    return _sign_up_again(user, now=now, details=details)


@transaction.atomic
def _sign_up_again(user: User, *, now: datetime, details: dict[str, Any]) -> SignUp:
    pending = PendingSignUp.objects.select_for_update().filter(user=user).first()
    if pending is None:
        return SignUp(user, SignUpOutcome.KNOWN)
    if not pending.has_expired(now):
        return SignUp(user, SignUpOutcome.PENDING)
    pending.started_at = now
    pending.save(update_fields=["started_at"])
    user.first_name, user.last_name = details["first_name"], details["last_name"]
    user.save(update_fields=["first_name", "last_name"])
    record_sign_up(user, now=now, **details)
    return SignUp(user, SignUpOutcome.NEW)


def pending_sign_up(user: User, *, now: datetime) -> PendingSignUp | None:
    """The user's sign-up if it is waiting for its link and has not expired."""
    pending = PendingSignUp.objects.filter(user=user).first()
    return None if pending is None or pending.has_expired(now) else pending


def sign_up_started_at(user: User) -> datetime | None:
    """When the user's waiting sign-up started (an activation link covers it, so a sign-up
    started over invalidates the links of the one before); None if none is waiting."""
    return PendingSignUp.objects.filter(user=user).values_list("started_at", flat=True).first()


@transaction.atomic
def complete_sign_up(user: User, *, now: datetime) -> None:
    """The emailed link was used and a password chosen (set on `user`, not yet saved): the
    account becomes active and takes over a record the front desk made by phone."""
    pending = PendingSignUp.objects.select_for_update().filter(user=user).first()
    if pending is None or pending.has_expired(now):
        raise SignUpClosed(str(LINK_CLOSED))
    pending.delete()
    user.is_active = True
    user.save()
    link_online_account(user, now=now)
