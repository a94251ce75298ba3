"""Two-factor sign-in with django-otp: who must give a second factor, enrolment, recovery
codes, checking a code, and the admin's reset. Every door asks these functions; none decides.

A session is *verified* once `django_otp.login()` has stored the device that accepted a code
in it (django_otp's OTPMiddleware then sets `request.user.otp_device`). A signed-in user needs
a verified session for anything beyond the two-factor pages when either

- they are staff (`accounts.roles.has_staff_role`: a staff group, is_staff or superuser) and
  `settings.OTP_REQUIRED_FOR_STAFF` is on (the default), or
- they have confirmed an authenticator app (a patient who opted in; staff while the policy is
  off).

Staff who must but have no authenticator yet are sent to set one up; everyone else who must
is asked for a code. Codes are 6-digit TOTP (RFC 6238, 30 s steps, one step either side) from
the authenticator, or one of ten one-time recovery codes (django-otp static tokens). A TOTP code
is accepted once (django-otp keeps the last accepted time step, `last_t`), and every wrong code
makes the device wait longer before the next try (django-otp's throttling: 1, 2, 4... s).
"""

from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import STAFF_GROUPS, has_staff_role
from booking.services.audit import Actor, audit, signed_in_or_none

__all__ = [
    "RECOVERY_CODE_COUNT",
    "CannotTurnOff",
    "CodeCheck",
    "check_code",
    "confirm_authenticator",
    "has_authenticator",
    "is_verified",
    "needs_second_factor",
    "new_recovery_codes",
    "qr_code_svg",
    "recovery_codes_left",
    "reset_devices",
    "second_step_url_name",
    "secret_text",
    "staff_policy_on",
    "start_authenticator",
    "turn_off",
]

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_CODES_NAME = "Recovery codes"


def staff_policy_on() -> bool:
    return bool(getattr(settings, "OTP_REQUIRED_FOR_STAFF", True))


def is_verified(user) -> bool:
    """True when this request's session was verified with a code (OTPMiddleware's answer)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def needs_second_factor(user) -> bool:
    """True when this signed-in user must verify the session with a code (module docstring).
    At most one query (none for is_staff and superusers while the policy is on)."""
    if signed_in_or_none(user) is None:
        return False
    if staff_policy_on() and (user.is_staff or user.is_superuser):
        return True
    enrolled = Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True))
    reason = Q(enrolled)
    if staff_policy_on():
        reason |= Q(groups__name__in=STAFF_GROUPS)
    return User.objects.filter(reason, pk=user.pk).exists()


def second_step_url_name(user) -> str:
    """Where a signed-in user who still owes a code goes: the code page, or, for staff with
    nothing to make a code with, the set-up page."""
    if has_authenticator(user) or not has_staff_role(user):
        return "two_factor_verify"
    return "two_factor_setup"


# --- Enrolment -------------------------------------------------------------------------------


def start_authenticator(user: User) -> TOTPDevice:
    """The authenticator being set up: an unconfirmed device with a fresh random secret, the
    same one until it is confirmed (so a reload does not invalidate a scanned QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def confirm_authenticator(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a device being set up with a code it made: it replaces any earlier
    authenticator, and a new set of recovery codes is made. The codes (shown once), or None
    when the code is wrong."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(_digits(code)):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=locked.user_id).exclude(pk=locked.pk).delete()
        device.refresh_from_db()
        return new_recovery_codes(locked.user)


def new_recovery_codes(user: User) -> list[str]:
    """Ten new one-time recovery codes; the earlier ones stop working."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_CODES_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// link as an inline SVG QR code (no script, no style: CSP clean)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2
    )
    return image.to_string(encoding="unicode")


# --- Checking a code -------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """The device that accepted the code (None: wrong code), or, when every device that could
    have checked it is waiting after earlier wrong codes, until when."""

    device: Device | None
    locked_until: datetime | None = None


def _digits(code: str) -> str:
    return "".join(code.split())


def check_code(user: User, code: str) -> CodeCheck:
    """Check a 6-digit authenticator code or a recovery code against the user's confirmed
    devices. A recovery code is used up; an authenticator code cannot be used twice."""
    code = _digits(code).replace("-", "").lower()
    if code.isdigit():
        candidates: list[Device] = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    else:
        candidates = list(StaticDevice.objects.filter(user=user, confirmed=True))
    locked_until = None
    for device in candidates:
        allowed, details = device.verify_is_allowed()
        if not allowed:
            locked_until = (details or {}).get("locked_until")
            continue
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return CodeCheck(verified)
        locked_until = None
    return CodeCheck(None, locked_until)


# --- Turning it off --------------------------------------------------------------------------


def token_refusal(user: User, code: str) -> str:
    """Why an API token cannot be given yet to an account with two-step sign-in ('' if it
    can): a token is as good as a verified session, so it needs the code too. A right code is
    used up, as at the code page."""
    if not needs_second_factor(user):
        return ""
    if not has_authenticator(user):
        return "Set up two-step sign-in on the website first, then ask for a token with a code."
    if not code.strip():
        return "This account signs in in two steps: send `code`, the 6-digit code from its app."
    if check_code(user, code).device is None:
        return "That code is not right, or was already used. Send the newest code."
    return ""


def _delete_devices(user: User) -> list[str]:
    names = sorted(
        [d.name for d in TOTPDevice.objects.filter(user=user)]
        + [d.name for d in StaticDevice.objects.filter(user=user)]
    )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return names


def reset_devices(user: User, *, actor: Actor, now: datetime, reason: str = "") -> list[str]:
    """Staff (the admin) remove someone's authenticator and recovery codes, e.g. after a lost
    phone: their next sign-in sets up a new one (staff) or asks no code (a patient). Audited.
    The names of the devices removed."""
    with transaction.atomic():
        names = _delete_devices(user)
        audit(
            actor=actor,
            action="two_factor_reset",
            patient=getattr(user, "patient", None),
            reason=(reason or f"Two-factor sign-in reset for {user.get_username()}")[:200],
            changes={"two_factor_devices": [names, []], "account": user.get_username()},
            now=now,
        )
    return names


class CannotTurnOff(Exception):
    """Staff must keep two-factor sign-in while the clinic's policy asks for it."""


def turn_off(user: User, *, now: datetime) -> None:
    """A patient (or staff while the policy is off) stops using two-factor sign-in."""
    if staff_policy_on() and has_staff_role(user):
        raise CannotTurnOff(_("Staff accounts must keep two-step sign-in."))
    with transaction.atomic():
        names = _delete_devices(user)
        audit(
            actor=user,
            action="two_factor_off",
            patient=getattr(user, "patient", None),
            changes={"two_factor_devices": [names, []], "account": user.get_username()},
            now=now,
        )
