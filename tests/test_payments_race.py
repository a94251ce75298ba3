"""No charge without a booking, no booking lost: Stripe taking a payment between our last look
and our cancel (it then refuses the cancel), and a late `payment_intent.succeeded` for a
payment we recorded as cancelled. Against localstripe; the race is made deterministic by
confirming the intent at localstripe from inside the backend's cancel."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from booking import services as booking_services
from booking.models import Appointment, AuditEntry
from payments import courses, services
from payments.models import Charge, Payment, PaymentPolicy
from tests.helpers import at, book, captured_on_backend, card_method, deliver, stripe_events

TUESDAY = date(2027, 3, 2)
SECRET = "whsec_test_skinclinic"


@pytest.fixture
def policy(location):
    """A 20% deposit ($70.00 of $350.00) and 10% off a course paid up front."""
    return PaymentPolicy.objects.create(
        location=location,
        deposit=Charge.PERCENT,
        deposit_value=Decimal(20),
        course_discount_percent=Decimal(10),
    )


def pay_at_stripe(backend, intent_id: str) -> None:
    """What Stripe.js does in the patient's browser: attach a card and confirm the intent."""
    method = card_method(backend, "4242424242424242")
    backend.client.v1.payment_intents.update(intent_id, params={"payment_method": method})
    backend.client.v1.payment_intents.confirm(intent_id)


def paid_just_before_the_cancel(backend, monkeypatch) -> list[str]:
    """The patient's card goes through after our last look and before our cancel reaches
    Stripe: the real cancel is then refused by localstripe."""
    real_cancel = backend.cancel
    cancelled: list[str] = []

    def cancel(intent_id: str):
        pay_at_stripe(backend, intent_id)
        cancelled.append(intent_id)
        return real_cancel(intent_id)

    monkeypatch.setattr(backend, "cancel", cancel)
    return cancelled


def course(clinic, patient, now, sessions=3):
    return booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=sessions,
        first_start=at(TUESDAY, 10),
        now=now,
    )


def test_a_deposit_paid_as_the_hold_runs_out_keeps_the_visit(
    clinic, patient, now, policy, stripe_backend, settings, monkeypatch
):
    settings.PAYMENT_HOLD_MINUTES = 10
    visit = book(clinic, patient, at(TUESDAY, 10), now)
    payment = services.start_deposit(appointment=visit, now=now, backend=stripe_backend)
    assert payment is not None
    cancelled = paid_just_before_the_cancel(stripe_backend, monkeypatch)

    let_go = services.release_unpaid(now=now + timedelta(minutes=11), backend=stripe_backend)

    assert cancelled == [payment.backend_id]  # the race really happened
    assert let_go == 0
    payment.refresh_from_db()
    visit.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert visit.status == Appointment.Status.BOOKED
    assert captured_on_backend(stripe_backend, [payment.backend_id]) == 7000
    # The next run changes nothing.
    assert services.release_unpaid(now=now + timedelta(minutes=20), backend=stripe_backend) == 0


def test_a_course_paid_as_the_hold_runs_out_keeps_every_visit(
    clinic, patient, now, policy, stripe_backend, settings, monkeypatch
):
    settings.PAYMENT_HOLD_MINUTES = 10
    plan = course(clinic, patient, now)
    payment = services.sell_course(
        plan=plan, method=Payment.Method.ONLINE, actor=None, now=now, backend=stripe_backend
    )
    paid_just_before_the_cancel(stripe_backend, monkeypatch)

    assert services.release_unpaid(now=now + timedelta(minutes=11), backend=stripe_backend) == 0

    assert Appointment.objects.filter(plan=plan).active().count() == 3
    balance = courses.balance(plan)
    assert balance is not None and balance.paid.amount == Decimal("945.00")
    assert captured_on_backend(stripe_backend, [payment.backend_id]) == 94500


def test_a_desk_sale_meeting_an_online_payment_going_through_is_refused(
    clinic, patient, front_desk, now, policy, stripe_backend, monkeypatch
):
    plan = course(clinic, patient, now)
    online = services.sell_course(
        plan=plan, method=Payment.Method.ONLINE, actor=None, now=now, backend=stripe_backend
    )
    paid_just_before_the_cancel(stripe_backend, monkeypatch)

    with pytest.raises(services.PaymentRefused, match="just paid online"):
        services.sell_course(
            plan=plan, method=Payment.Method.CASH, actor=front_desk, now=now, backend=stripe_backend
        )

    online.refresh_from_db()
    assert online.state == Payment.State.SUCCEEDED
    assert courses.course_payment(plan) == online
    assert services.ledger_total(Payment.objects.filter(plan=plan)) == Decimal("945.00")


def recorded_cancelled_but_taken(clinic, patient, now, backend) -> tuple[Appointment, Payment]:
    """A deposit Stripe took that our ledger wrote down as cancelled (what the old race
    left): the succeeded event is still on its way."""
    visit = book(clinic, patient, at(TUESDAY, 10), now)
    payment = services.start_deposit(appointment=visit, now=now, backend=backend)
    assert payment is not None
    pay_at_stripe(backend, payment.backend_id)
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.CANCELLED)
    return visit, payment


def succeeded_event(backend, intent_id: str) -> dict:
    [event] = [
        e for e in stripe_events(backend, intent_id) if e["type"] == "payment_intent.succeeded"
    ]
    return event


def test_a_late_success_for_a_cancelled_deposit_whose_time_was_let_go_is_refunded(
    client, clinic, patient, now, policy, stripe_backend
):
    visit, payment = recorded_cancelled_but_taken(clinic, patient, now, stripe_backend)
    booking_services.cancel_appointment(appointment=visit, now=now, staff=True)

    response = deliver(client, succeeded_event(stripe_backend, payment.backend_id), SECRET)

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.state == Payment.State.REFUNDED
    assert payment.refunds.get().reason == "The time was no longer held."
    assert captured_on_backend(stripe_backend, [payment.backend_id]) == 0
    actions = list(
        AuditEntry.objects.filter(changes__payment=payment.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["payment_succeeded", "payment_refunded"]
    late = AuditEntry.objects.get(action="payment_succeeded", changes__payment=payment.pk)
    assert late.changes["late"] is True and late.changes["recorded_as"] == "cancelled"


def test_a_late_success_for_a_cancelled_deposit_whose_visit_still_holds_keeps_it(
    client, clinic, patient, now, policy, stripe_backend
):
    visit, payment = recorded_cancelled_but_taken(clinic, patient, now, stripe_backend)

    deliver(client, succeeded_event(stripe_backend, payment.backend_id), SECRET)

    payment.refresh_from_db()
    visit.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert visit.status == Appointment.Status.BOOKED
    assert captured_on_backend(stripe_backend, [payment.backend_id]) == 7000


def test_a_late_success_for_a_course_the_desk_then_sold_is_refunded(
    client, clinic, patient, front_desk, now, policy, stripe_backend
):
    plan = course(clinic, patient, now)
    online = services.sell_course(
        plan=plan, method=Payment.Method.ONLINE, actor=None, now=now, backend=stripe_backend
    )
    pay_at_stripe(stripe_backend, online.backend_id)
    Payment.objects.filter(pk=online.pk).update(state=Payment.State.CANCELLED)
    desk = services.sell_course(
        plan=plan, method=Payment.Method.CASH, actor=front_desk, now=now, backend=stripe_backend
    )

    deliver(client, succeeded_event(stripe_backend, online.backend_id), SECRET)

    online.refresh_from_db()
    assert online.state == Payment.State.REFUNDED
    assert captured_on_backend(stripe_backend, [online.backend_id]) == 0
    assert courses.course_payment(plan) == desk
    assert services.ledger_total(Payment.objects.filter(plan=plan)) == Decimal("945.00")
