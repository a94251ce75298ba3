"""Email receipts: queued with every payment taken and refund made, sent by the outbox in the
patient's language, and again when the desk asks."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from booking.models import AuditEntry
from notifications import dispatch as dispatcher
from notifications.models import Notification
from payments import services
from payments.models import Payment, SavedCard
from tests import factories
from tests.helpers import at, book, sign_in
from treatments.money import Money

TUESDAY = date(2027, 3, 2)


@pytest.fixture(autouse=True)
def memory_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def visit(clinic, now):
    clinic["location"].address = "3035 Peachtree Rd NE, Atlanta"
    clinic["location"].save()
    patient = factories.PatientFactory(first_name="Ana", email="ana@example.com")
    return book(clinic, patient, at(TUESDAY, 10), now)


def send(now):
    return dispatcher.dispatch_due(clock=lambda: now, budget_seconds=30)


def mailed():
    """The receipts the dispatcher sent (the booking's own confirmation left out)."""
    return [m for m in mail.outbox if m.subject in ("Your receipt", "Tu recibo")]


def receipts():
    return Notification.objects.filter(kind=Notification.Kind.RECEIPT).order_by("pk")


def test_a_payment_taken_at_the_desk_emails_a_receipt(visit, front_desk, now):
    SavedCard.objects.create(
        patient=visit.patient, backend="stripe", customer_id="cus_1", method_id="pm_1",
        brand="visa", last4="4242",
    )  # fmt: skip
    paid_at = at(TUESDAY, 11, 5)  # 11:05 in Atlanta, 16:05 UTC

    services.record_payment(
        appointment=visit,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.TERMINAL,
        money=Money(Decimal("1250.50"), "USD"),
        actor=front_desk,
        now=paid_at,
    )
    send(paid_at)

    [row] = receipts()
    assert (row.channel, row.status) == ("email", Notification.Status.SENT)
    [email] = mailed()
    assert email.subject == "Your receipt"
    assert email.to == ["ana@example.com"]
    assert "Amount: $1,250.50" in email.body
    assert "For: Session: Microneedling" in email.body
    assert "11:05" in email.body and "16:05" not in email.body
    assert "Paid by: Card terminal" in email.body
    assert "ending" not in email.body  # not paid by the card on file
    assert "Buckhead, 3035 Peachtree Rd NE, Atlanta" in email.body
    html = email.alternatives[0][0]
    assert "$1,250.50" in html and "3035 Peachtree Rd NE" in html


def test_a_card_payment_shows_the_last_four_and_a_refund_its_own_receipt(visit, front_desk, now):
    SavedCard.objects.create(
        patient=visit.patient, backend="offline", customer_id="cus_1", method_id="pm_1",
        brand="visa", last4="4242",
    )  # fmt: skip
    payment = Payment.objects.create(
        kind=Payment.Kind.DEPOSIT, method=Payment.Method.ONLINE, patient=visit.patient,
        location=visit.location, appointment=visit, amount=Decimal("70.00"), currency="USD",
        backend="offline", state=Payment.State.SUCCEEDED, succeeded_at=now,
    )  # fmt: skip

    services.refund(
        payment=payment,
        money=Money(Decimal("20.00"), "USD"),
        reason="Skin reaction, treatment stopped",
        actor=front_desk,
        now=now,
    )
    send(now)

    [email] = mailed()
    assert "Amount: $20.00 refunded" in email.body
    assert "For: Deposit: Microneedling" in email.body
    assert "Refunded to: Card online ending 4242" in email.body
    assert "reaction" not in email.body  # the reason stays with the desk


def test_the_receipt_is_in_the_patients_language(visit, front_desk, now):
    visit.patient.language = "es"
    visit.patient.save()

    services.record_payment(
        appointment=visit,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("1250.50"), "USD"),
        actor=front_desk,
        now=now,
    )
    send(now)

    [email] = mailed()
    assert email.subject == "Tu recibo"
    assert "Importe: 1250,50" in email.body.replace("\xa0", "").replace("\u202f", "")
    assert "Efectivo" in email.body


def test_the_desk_emails_a_copy_with_one_audited_post(client, visit, front_desk, now, frozen):
    sign_in(client, front_desk)
    client.post(
        f"/staff/appointments/{visit.pk}/take-payment/",
        {"amount": "350.00", "method": "cash", "kind": "session"},
    )
    payment = Payment.objects.get()
    page = client.get(f"/staff/appointments/{visit.pk}/").content.decode()
    assert "Email a receipt" in page

    response = client.post(f"/staff/payments/{payment.pk}/receipt/", follow=True)

    assert "A receipt is on its way to ana@example.com." in response.content.decode()
    assert receipts().count() == 2
    entry = AuditEntry.objects.get(action="receipt_emailed")
    assert entry.actor == front_desk
    send(now + timedelta(minutes=1))
    assert [m.subject for m in mailed()] == ["Your receipt", "Your receipt"]


def test_a_receipt_copy_needs_post_csrf_and_staff(client, visit, front_desk, now, frozen):
    payment = services.record_payment(
        appointment=visit,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("10"), "USD"),
        actor=front_desk,
        now=now,
    )
    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, front_desk)
    assert strict.get(f"/staff/payments/{payment.pk}/receipt/").status_code == 405
    assert strict.post(f"/staff/payments/{payment.pk}/receipt/").status_code == 403
    sign_in(client, factories.PatientFactory().user)
    assert client.post(f"/staff/payments/{payment.pk}/receipt/").status_code == 403
    assert receipts().count() == 1


def test_no_receipt_for_a_payment_not_taken(client, visit, front_desk, now, frozen):
    pending = Payment.objects.create(
        kind=Payment.Kind.DEPOSIT, method=Payment.Method.ONLINE, patient=visit.patient,
        location=visit.location, appointment=visit, amount=Decimal("70.00"), currency="USD",
        backend="stripe", backend_id="pi_x",
    )  # fmt: skip
    sign_in(client, front_desk)

    response = client.post(f"/staff/payments/{pending.pk}/receipt/", follow=True)

    assert response.status_code == 200
    assert "No receipt sent: Only a payment that was taken has a receipt." in (
        response.content.decode()
    )
    assert not receipts().exists()


def test_a_receipt_never_goes_by_sms(visit, front_desk, now):
    visit.patient.sms_consent = True
    visit.patient.save()
    services.record_payment(
        appointment=visit,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("10"), "USD"),
        actor=front_desk,
        now=now,
    )
    assert list(receipts().values_list("channel", flat=True)) == ["email"]
