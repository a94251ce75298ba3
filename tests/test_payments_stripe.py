"""The ledger against a real Stripe-compatible server (localstripe, started by conftest):
webhooks signed and idempotent, the browser never trusted, the ledger balancing with what
the server holds."""

import itertools
import json
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import services as booking_services
from booking.models import Appointment
from payments import services
from payments.models import Charge, Payment, PaymentEvent, PaymentPolicy
from tests import factories
from tests.helpers import at, book, captured_on_backend, card_method, deliver, signed, stripe_events
from treatments.money import Money

TUESDAY = date(2027, 3, 2)
SECRET = "whsec_test_skinclinic"


@pytest.fixture
def deposit_policy(location):
    return PaymentPolicy.objects.create(
        location=location,
        deposit=Charge.PERCENT,
        deposit_value=Decimal(20),
        no_show_fee=Charge.FIXED,
        no_show_fee_value=Decimal("75.50"),
        late_cancel_fee=Charge.FIXED,
        late_cancel_fee_value=Decimal(50),
    )


def pending_deposit(clinic, patient, now, backend, start=None):
    appointment = book(clinic, patient, start or at(TUESDAY, 10), now)
    payment = services.start_deposit(appointment=appointment, now=now, backend=backend)
    assert payment is not None and payment.state == Payment.State.PENDING
    return appointment, payment


def pay_in_browser(backend, payment, number="4242424242424242"):
    """What Stripe.js does in the patient's browser: attach a card and confirm the intent."""
    method = card_method(backend, number)
    backend.client.v1.payment_intents.update(payment.backend_id, params={"payment_method": method})
    return backend.client.v1.payment_intents.confirm(payment.backend_id)


def test_a_deposit_is_paid_through_the_signed_webhook_and_a_replay_changes_nothing(
    client, clinic, patient, now, deposit_policy, stripe_backend
):
    appointment, payment = pending_deposit(clinic, patient, now, stripe_backend)
    pay_in_browser(stripe_backend, payment)
    [event] = [
        e
        for e in stripe_events(stripe_backend, payment.backend_id)
        if e["type"] == "payment_intent.succeeded"
    ]

    first = deliver(client, event, SECRET)
    payment.refresh_from_db()
    settled_at = payment.succeeded_at
    second = deliver(client, event, SECRET)

    assert (first.status_code, first.content) == (200, b"ok")
    assert (second.status_code, second.content) == (200, b"already seen")
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert payment.money == Money(Decimal("70.00"), "USD")
    assert payment.succeeded_at == settled_at
    assert PaymentEvent.objects.filter(event_id=event["id"]).count() == 1
    assert appointment.audit_entries.filter(action="payment_succeeded").count() == 1


def test_a_forged_signature_is_refused_and_changes_nothing(
    client, clinic, patient, now, deposit_policy, stripe_backend
):
    _, payment = pending_deposit(clinic, patient, now, stripe_backend)
    forged = {
        "id": "evt_forged",
        "type": "payment_intent.succeeded",
        "created": 1,
        "data": {"object": {"id": payment.backend_id, "object": "payment_intent"}},
    }
    body = json.dumps(forged).encode()

    wrong_key = client.post(
        "/payments/stripe/webhook/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signed(body, "whsec_someone_else")},
    )
    unsigned = client.post("/payments/stripe/webhook/", body, content_type="application/json")

    assert wrong_key.status_code == 400 and unsigned.status_code == 400
    assert b"signature" in wrong_key.content
    payment.refresh_from_db()
    assert payment.state == Payment.State.PENDING
    assert not PaymentEvent.objects.exists()


def test_the_browser_saying_paid_is_not_believed(
    signed_in, clinic, patient, now, deposit_policy, stripe_backend
):
    _, payment = pending_deposit(clinic, patient, now, stripe_backend)

    page = signed_in.get(f"/pay/{payment.pk}/?returned=1&redirect_status=succeeded")

    assert page.status_code == 200
    payment.refresh_from_db()
    assert payment.state == Payment.State.PENDING


def test_a_webhook_before_the_browser_returns_ends_in_one_paid_booking(
    signed_in, clinic, patient, now, deposit_policy, stripe_backend
):
    appointment, payment = pending_deposit(clinic, patient, now, stripe_backend)
    pay_in_browser(stripe_backend, payment)
    for event in stripe_events(stripe_backend, payment.backend_id):
        deliver(signed_in, event, SECRET)

    page = signed_in.get(f"/pay/{payment.pk}/?returned=1")

    assert page.status_code == 200
    assert Payment.objects.filter(appointment=appointment).count() == 1
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert Appointment.objects.active().filter(patient=patient).count() == 1
    assert appointment.audit_entries.filter(action="payment_succeeded").count() == 1


def test_the_browser_returning_first_settles_by_asking_stripe_and_the_late_webhook_is_a_noop(
    signed_in, clinic, patient, now, deposit_policy, stripe_backend
):
    _, payment = pending_deposit(clinic, patient, now, stripe_backend)
    pay_in_browser(stripe_backend, payment)

    signed_in.get(f"/pay/{payment.pk}/?returned=1")
    for event in stripe_events(stripe_backend, payment.backend_id):
        assert deliver(signed_in, event, SECRET).status_code == 200

    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert payment.appointment.audit_entries.filter(action="payment_succeeded").count() == 1


def test_3d_secure_leaves_the_payment_pending_until_the_bank_says_yes(
    clinic, patient, now, deposit_policy, stripe_backend
):
    _, payment = pending_deposit(clinic, patient, now, stripe_backend)

    intent = pay_in_browser(stripe_backend, payment, number="4000002760003184")

    assert intent.status == "requires_action"
    assert services.settle_from_backend(payment, now=now, backend=stripe_backend).state == (
        Payment.State.PENDING
    )


def test_an_unpaid_deposit_frees_the_time_after_the_hold(
    clinic, patient, now, deposit_policy, stripe_backend, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    appointment, payment = pending_deposit(clinic, patient, now, stripe_backend)

    assert services.release_unpaid(now=now + timedelta(minutes=5), backend=stripe_backend) == 0
    assert services.release_unpaid(now=now + timedelta(minutes=11), backend=stripe_backend) == 1

    appointment.refresh_from_db()
    payment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert payment.state == Payment.State.CANCELLED
    intent = stripe_backend.client.v1.payment_intents.retrieve(payment.backend_id)
    assert intent.status == "canceled"
    # The time is free again.
    book(clinic, factories.PatientFactory(), at(TUESDAY, 10), now)


def test_a_deposit_paid_after_the_time_was_let_go_is_refunded(
    client, clinic, patient, now, deposit_policy, stripe_backend
):
    appointment, payment = pending_deposit(clinic, patient, now, stripe_backend)
    pay_in_browser(stripe_backend, payment)
    booking_services.cancel_appointment(appointment=appointment, now=now, staff=True)
    for event in stripe_events(stripe_backend, payment.backend_id):
        deliver(client, event, SECRET)

    payment.refresh_from_db()
    assert payment.state == Payment.State.REFUNDED
    assert captured_on_backend(stripe_backend, [payment.backend_id]) == 0


def test_the_desk_charges_the_no_show_fee_to_the_card_on_file(
    clinic, patient, now, deposit_policy, stripe_backend, front_desk
):
    services.save_card(
        patient=patient, method_id=card_method(stripe_backend), now=now, backend=stripe_backend
    )
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    appointment = booking_services.change_status(
        appointment=appointment, status=Appointment.Status.NO_SHOW, now=at(TUESDAY, 11)
    )

    fee = services.charge_fee(
        appointment=appointment,
        actor=front_desk,
        now=now,
        method=Payment.Method.CARD_ON_FILE,
        backend=stripe_backend,
    )

    assert fee.state == Payment.State.SUCCEEDED
    assert fee.money == Money(Decimal("75.50"), "USD")
    assert captured_on_backend(stripe_backend, [fee.backend_id]) == 7550
    assert patient.saved_card.last4 == "4242"


def test_a_fee_charged_by_a_spanish_speaking_desk_is_recorded_in_the_source_language(
    clinic, patient, now, deposit_policy, stripe_backend, front_desk
):
    services.save_card(
        patient=patient, method_id=card_method(stripe_backend), now=now, backend=stripe_backend
    )
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    appointment = booking_services.change_status(
        appointment=appointment, status=Appointment.Status.NO_SHOW, now=at(TUESDAY, 11)
    )

    with translation.override("es"):
        fee = services.charge_fee(
            appointment=appointment,
            actor=front_desk,
            now=now,
            method=Payment.Method.CARD_ON_FILE,
            backend=stripe_backend,
        )

    assert fee.note == "No-show fee"


# The ledger balances ---------------------------------------------------------------------------

EXAMPLES = itertools.count()
STEPS = st.lists(
    st.sampled_from(["book", "pay", "webhook", "cancel", "no_show", "refund_part", "refund_all"]),
    max_size=12,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_any_sequence_of_book_pay_cancel_no_show_refund_balances_the_ledger(
    steps, client, clinic, now, deposit_policy, stripe_backend, front_desk
):
    patient = factories.PatientFactory()
    appointments: list[Appointment] = []
    slot = iter(range(9, 15))
    # Examples share the test's database: each books in weeks of its own.
    first_week = TUESDAY + timedelta(weeks=13 * next(EXAMPLES))
    for step in steps:
        live = [a for a in appointments if a.status in Appointment.Status.values]
        last = live[-1] if live else None
        try:
            if step == "book":
                appointment, _ = services.book_with_deposit(
                    patient=patient,
                    treatment=clinic["treatment"],
                    location=clinic["location"],
                    start=at(first_week + timedelta(days=7 * len(appointments)), next(slot, 9)),
                    now=now,
                    backend=stripe_backend,
                    staff=True,
                )
                appointments.append(appointment)
            elif step == "pay" and last:
                pending = last.payments.filter(state=Payment.State.PENDING).first()
                # A card already confirmed (its webhook not yet delivered) is not paid twice:
                # Stripe.js would not offer the form again.
                if pending and stripe_backend.retrieve(pending.backend_id).status == (
                    "requires_payment_method"
                ):
                    pay_in_browser(stripe_backend, pending)
            elif step == "webhook" and last:
                for payment in last.payments.exclude(backend_id=""):
                    for event in stripe_events(stripe_backend, payment.backend_id):
                        deliver(client, event, SECRET)
            elif step == "cancel" and last and last.is_active:
                booking_services.cancel_appointment(appointment=last, now=now, staff=True)
            elif step == "no_show" and last and last.is_active:
                booking_services.change_status(
                    appointment=last,
                    status=Appointment.Status.NO_SHOW,
                    now=last.start + timedelta(hours=2),
                )
            elif step.startswith("refund") and last:
                taken = last.payments.filter(
                    state__in=[Payment.State.SUCCEEDED, Payment.State.PARTLY_REFUNDED]
                ).first()
                if taken:
                    amount = (
                        taken.refundable
                        if step == "refund_all"
                        else Money(Decimal("10.00"), taken.currency)
                    )
                    services.refund(
                        payment=taken,
                        money=amount,
                        reason="Test",
                        actor=front_desk,
                        now=now,
                        backend=stripe_backend,
                    )
        except (services.PaymentRefused, booking_services.BookingError):
            pass
        for appointment in appointments:
            appointment.refresh_from_db()

    # Once the processor's events have all arrived (a webhook may still be on its way when
    # the sequence stops), the ledger matches what the processor holds.
    for payment in Payment.objects.filter(patient=patient).exclude(backend_id=""):
        for event in stripe_events(stripe_backend, payment.backend_id):
            deliver(client, event, SECRET)
    mine = Payment.objects.filter(patient=patient)
    intents = list(mine.exclude(backend_id="").values_list("backend_id", flat=True))
    assert len(intents) == len(set(intents))  # no payment counted twice
    paid = sum(
        (
            p.amount - p.refunded
            for p in mine
            if p.state
            in (Payment.State.SUCCEEDED, Payment.State.PARTLY_REFUNDED, Payment.State.REFUNDED)
        ),
        Decimal(0),
    )
    assert Money(paid, "USD").minor == captured_on_backend(stripe_backend, intents)
    for payment in mine:
        assert payment.refunded == sum((r.amount for r in payment.refunds.all()), Decimal(0))


# Twenty patients pay and book the same time -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_pay_and_book_for_one_time_make_one_booking_and_one_charge(
    clinic, now, deposit_policy, stripe_backend
):
    patients = [factories.PatientFactory() for _ in range(20)]
    methods = [card_method(stripe_backend) for _ in patients]
    ready = threading.Barrier(len(patients))
    outcomes: list[str] = []

    def race(patient, method):
        try:
            ready.wait()
            services.book_with_deposit(
                patient=patient,
                treatment=clinic["treatment"],
                location=clinic["location"],
                start=at(TUESDAY, 10),
                now=now,
                method=method,
                backend=stripe_backend,
            )
            outcomes.append("booked")
        except booking_services.SlotTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    with time_machine.travel(now, tick=False):
        threads = [
            threading.Thread(target=race, args=pair) for pair in zip(patients, methods, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(outcomes) == ["booked"] + ["taken"] * 19
    assert Appointment.objects.active().count() == 1
    [payment] = Payment.objects.all()
    assert payment.state == Payment.State.SUCCEEDED
    assert payment.appointment.is_active
    charged = stripe_backend.client.v1.payment_intents.list(params={"limit": 100}).data
    assert [p.status for p in charged] == ["succeeded"]
    assert captured_on_backend(stripe_backend, [payment.backend_id]) == 7000


def test_after_booking_the_patient_is_sent_to_pay_the_deposit(
    rf, clinic, patient, now, deposit_policy, stripe_backend
):
    from payments import flow

    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    request = rf.post("/book/review/")
    request.user, request.session = patient.user, {}

    response = flow.after_booking(request, [appointment])

    payment = Payment.objects.get(appointment=appointment)
    assert response is not None and response.url == f"/pay/{payment.pk}/"
    assert payment.state == Payment.State.PENDING and payment.client_secret


def test_without_a_deposit_or_offline_the_booking_flow_goes_on_as_before(
    rf, clinic, patient, now, settings
):
    from payments import flow

    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    assert flow.after_booking(rf.post("/book/review/"), [appointment]) is None
    assert not Payment.objects.exists()
