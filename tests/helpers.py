"""Helpers every test module shares: one way to say a local time, one way to book, one way
to sign someone in (with the second step when it applies)."""

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import django_otp
import pytest
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


def card_method(backend, number: str = "4242424242424242") -> str:
    """A card PaymentMethod made on the (local) Stripe server, as Stripe.js would make one in
    the browser: the card number never reaches our server. 4000002760003184 asks for 3-D
    Secure; 4000000000000002 is declined."""
    method = backend.client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    return method.id


def signed(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe (and localstripe) sends with a webhook body."""
    import hashlib
    import hmac

    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def stripe_events(backend, intent_id: str) -> list[dict]:
    """The events the Stripe server recorded about one PaymentIntent, oldest first."""
    events = backend.client.v1.events.list(params={"limit": 100})
    found = [e.to_dict() for e in events.auto_paging_iter()]
    return sorted(
        (e for e in found if e["data"]["object"].get("id") == intent_id),
        key=lambda e: e["created"],
    )


def deliver(client, event: dict, secret: str):
    """POST one event to our webhook, signed as the Stripe server signs it."""
    import json

    body = json.dumps(event).encode()
    return client.post(
        "/payments/stripe/webhook/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signed(body, secret)},
    )


def captured_on_backend(backend, intent_ids) -> int:
    """Minor units the Stripe server holds for these intents: charged minus refunded."""
    total = 0
    for intent_id in intent_ids:
        intent = backend.client.v1.payment_intents.retrieve(intent_id)
        if intent.status == "succeeded":
            total += intent.amount
            refunds = backend.client.v1.refunds.list(params={"payment_intent": intent_id})
            total -= sum(r.amount for r in refunds.auto_paging_iter())
    return total


@contextmanager
def local_server(name: str, command: Callable[[int], list[str]]) -> Iterator[str]:
    """Start a real server (localstripe, moto_server) on a free port of 127.0.0.1, wait until
    it accepts connections, and yield its base URL; stop it afterwards. `command(port)` is its
    command line. Fails the test if it does not start within 20 seconds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{name} did not start on port {port}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
