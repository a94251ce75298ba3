"""Email that bounces turns email reminders off: Mailgun's tracking webhook through
django-anymail, with a real HMAC signature computed here, and forged requests refused."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.urls import reverse

from booking.models import AuditEntry
from notifications.models import BouncedEmail
from tests import factories
from tests.helpers import sign_in

SIGNING_KEY = "key-mailgun-test-signing"


@pytest.fixture(autouse=True)
def mailgun(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    settings.ANYMAIL.pop("WEBHOOK_SECRET", None)


def mailgun_event(event: str, recipient: str, *, key=SIGNING_KEY, token=None, **extra) -> dict:
    """A Mailgun webhook body as Mailgun signs it: HMAC-SHA256(key, timestamp + token)."""
    timestamp = str(int(time.time()))
    token = token or uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature.hexdigest()},
        "event-data": {
            "event": event,
            "recipient": recipient,
            "timestamp": float(timestamp),
            "id": uuid.uuid4().hex,
            "message": {"headers": {"message-id": "20270301.1@mg.clinic.example"}},
            **extra,
        },
    }


def post(client, body: dict):
    return client.post(
        reverse("mailgun_tracking_webhook"), json.dumps(body), content_type="application/json"
    )


@pytest.fixture
def patient(db):
    return factories.PatientFactory(email="Ana.Lopez@example.com", email_consent=True)


def test_a_hard_bounce_turns_email_reminders_off_and_tells_the_desk(client, patient, front_desk):
    body = mailgun_event(
        "failed",
        "ana.lopez@example.com",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"description": "No such mailbox", "message": "550 5.1.1"}},
    )

    response = post(client, body)

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.email_consent is False
    entry = AuditEntry.objects.get(patient=patient, action="consent_changed")
    assert entry.changes == {"email_consent": [True, False]}
    assert "bounced (Mailgun)" in entry.reason

    sign_in(client, front_desk)
    record = client.get(reverse("desk:patient", args=[patient.pk])).content.decode()
    assert "bounced on" in record and "email reminders are off" in record
    failed = client.get(reverse("failed_messages")).content.decode()
    assert "No such mailbox" in failed and patient.full_name in failed


def test_a_spam_complaint_turns_email_reminders_off(client, patient):
    assert post(client, mailgun_event("complained", "ana.lopez@example.com")).status_code == 200

    patient.refresh_from_db()
    assert patient.email_consent is False
    assert BouncedEmail.objects.get().event_type == "complained"


def test_a_temporary_failure_or_a_delivery_changes_nothing(client, patient):
    post(client, mailgun_event("failed", "ana.lopez@example.com", severity="temporary"))
    post(client, mailgun_event("delivered", "ana.lopez@example.com"))

    patient.refresh_from_db()
    assert patient.email_consent is True
    assert not BouncedEmail.objects.exists()


def test_a_forged_signature_is_refused(client, patient):
    body = mailgun_event("failed", "ana.lopez@example.com", key="not-the-key", severity="permanent")

    response = post(client, body)

    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.email_consent is True
    assert not BouncedEmail.objects.exists()


def test_a_replayed_event_is_recorded_once(client, patient):
    body = mailgun_event("failed", "ana.lopez@example.com", severity="permanent", token="t1")

    post(client, body)
    post(client, body)

    assert BouncedEmail.objects.count() == 1
    assert AuditEntry.objects.filter(action="consent_changed").count() == 1


def test_postmark_without_its_basic_auth_is_refused(client, settings, patient):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "postmark:s3cret"}
    body = {"RecordType": "Bounce", "Type": "HardBounce", "Email": "ana.lopez@example.com"}

    response = client.post(
        reverse("postmark_tracking_webhook"), json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.email_consent is True


def test_postmark_with_its_basic_auth_turns_email_off(client, settings, patient):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "postmark:s3cret"}
    body = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "ID": 4242,
        "Email": "ana.lopez@example.com",
        "BouncedAt": "2027-03-01T13:00:00Z",
        "Description": "The server was unable to deliver your message",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    }

    response = client.post(
        reverse("postmark_tracking_webhook"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"postmark:s3cret").decode(),
    )

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.email_consent is False
