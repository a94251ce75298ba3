"""Helpers every test module shares: one way to say a local time, one way to book, one way
to sign someone in (with the second step when it applies)."""

import time
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import django_otp
from django.http import HttpRequest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from booking import services
from booking.models import Appointment

NEW_YORK = ZoneInfo("America/New_York")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Atlanta (the test clinic's zone) on a date."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def book(clinic, patient, start: datetime, now: datetime, **kwargs) -> Appointment:
    """A visit of the clinic's treatment through the booking service: the patient's own
    booking unless `staff=True` is passed (the desk booked it)."""
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=now,
        **kwargs,
    )


def authenticator(user) -> TOTPDevice:
    """The user's confirmed authenticator app (a real django-otp TOTP device), made if none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The 6-digit code the authenticator app shows now (time-machine moves "now")."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, user):
    """Sign `user` in on a test client as the sign-in pages would leave them: password given
    and, when two-step sign-in applies (staff, or anyone who turned it on), the session
    verified with their authenticator (django_otp.login with a real device). Returns client."""
    client.force_login(user)
    if two_factor.needs_second_factor(user):
        request = HttpRequest()
        request.session = client.session
        request.user = user
        django_otp.login(request, authenticator(user))
        request.session.save()
    return client


class _FormReader(HTMLParser):
    """Collects what each <form> on a page would submit untouched, as a browser would."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._form: dict[str, str] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = {}
            self.forms.append(self._form)
        elif self._form is None or "name" not in attr and tag != "option":
            return
        elif tag == "input" and attr.get("type") not in ("submit", "button", "image", "reset"):
            if attr.get("type") not in ("checkbox", "radio") or "checked" in attr:
                self._form[attr["name"]] = attr.get("value", "")
        elif tag == "textarea":
            self._textarea = attr["name"]
            self._form[self._textarea] = ""
        elif tag == "select":
            self._select = attr["name"]
        elif tag == "option" and self._select and "selected" in attr:
            self._form[self._select] = attr.get("value", "")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def untouched_form(html: str, containing: str) -> dict[str, str]:
    """The fields the first form with a field named `containing` posts if nobody types."""
    reader = _FormReader()
    reader.feed(html)
    return next(form for form in reader.forms if containing in form)
