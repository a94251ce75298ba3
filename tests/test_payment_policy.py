"""Payment policies: which one applies, the amounts, the plain words, frozen with the booking."""

from datetime import date
from decimal import Decimal

import pytest

from booking.models import AuditEntry
from payments import services
from payments.backends import OfflineBackend
from payments.models import BookingTerms, Charge, Payment, PaymentPolicy
from payments.policy import policy_for, terms_for
from tests import factories
from tests.helpers import at, book
from treatments.money import Money

TUESDAY = date(2027, 3, 2)


@pytest.fixture
def policy(location):
    return PaymentPolicy.objects.create(
        location=location,
        deposit=Charge.PERCENT,
        deposit_value=Decimal(20),
        late_cancel_fee=Charge.FIXED,
        late_cancel_fee_value=Decimal("50"),
        no_show_fee=Charge.PERCENT,
        no_show_fee_value=Decimal(100),
    )


def test_a_treatments_own_policy_wins_over_the_locations(location, treatment, policy):
    own = PaymentPolicy.objects.create(
        location=location, treatment=treatment, deposit=Charge.FIXED, deposit_value=Decimal(75)
    )
    other = factories.TreatmentFactory(name="Peel")

    assert policy_for(location, treatment) == own
    assert policy_for(location, other) == policy


def test_no_policy_asks_for_nothing(location, treatment):
    terms = terms_for(location, treatment)

    assert not terms.deposit and not terms.no_show_fee
    assert terms.sentence() == (
        "Nothing is paid now; you pay at the clinic. "
        "You can cancel free of charge up to 48 hours before."
    )


def test_amounts_are_worked_out_from_the_price_in_the_locations_currency(
    location, treatment, policy
):
    treatment.price = Decimal("175.50")
    location.currency = "EUR"

    terms = terms_for(location, treatment)

    assert terms.deposit == Money(Decimal("35.10"), "EUR")
    assert terms.late_cancel_fee == Money(Decimal("50"), "EUR")
    assert terms.no_show_fee == Money(Decimal("175.50"), "EUR")
    assert terms.sentence() == (
        "A deposit of €35.10 is paid now. It is refunded if you cancel at least 48 hours "
        "before your visit, and kept if you cancel later. Cancelling less than 48 hours "
        "before costs €50.00. Missing the visit costs €175.50."
    )


def test_a_fixed_deposit_is_never_more_than_the_price(location, treatment, policy):
    policy.deposit, policy.deposit_value = Charge.FIXED, Decimal(900)
    policy.save()

    assert terms_for(location, treatment).deposit == Money(Decimal("350.00"), "USD")


def test_a_percentage_over_100_is_refused(location):
    bad = PaymentPolicy(location=location, deposit=Charge.PERCENT, deposit_value=Decimal(120))

    with pytest.raises(Exception, match="at most 100"):
        bad.full_clean()


def test_the_terms_in_force_are_frozen_with_the_booking(clinic, patient, now, policy):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    policy.no_show_fee_value = Decimal(10)
    policy.save()
    clinic["treatment"].price = Decimal(999)
    clinic["treatment"].save()

    terms = BookingTerms.objects.get(appointment=appointment)
    assert terms.money("deposit") == Money(Decimal("70.00"), "USD")
    assert terms.money("no_show_fee") == Money(Decimal("350.00"), "USD")
    assert "Missing the visit costs $350.00." in terms.sentence


# The offline backend (make run): the desk records what it takes ------------------------------


def test_offline_there_is_no_online_deposit(clinic, patient, now, policy):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    assert (
        services.start_deposit(appointment=appointment, now=now, backend=OfflineBackend()) is None
    )


def test_the_desk_records_cash_and_refunds_part_of_it_with_a_reason(
    clinic, patient, now, front_desk
):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    payment = services.record_payment(
        appointment=appointment,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("350.00"), "USD"),
        actor=front_desk,
        now=now,
        backend=OfflineBackend(),
    )
    with pytest.raises(services.PaymentRefused, match="reason"):
        services.refund(
            payment=payment, money=Money(Decimal(50), "USD"), reason=" ", actor=front_desk, now=now
        )
    services.refund(
        payment=payment,
        money=Money(Decimal("50.00"), "USD"),
        reason="Shorter session",
        actor=front_desk,
        now=now,
        backend=OfflineBackend(),
    )
    with pytest.raises(services.PaymentRefused, match=r"At most \$300.00"):
        services.refund(
            payment=payment,
            money=Money(Decimal(301), "USD"),
            reason="Too much",
            actor=front_desk,
            now=now,
            backend=OfflineBackend(),
        )

    payment.refresh_from_db()
    assert payment.state == Payment.State.PARTLY_REFUNDED
    assert payment.refundable == Money(Decimal("300.00"), "USD")
    actions = list(
        AuditEntry.objects.filter(appointment=appointment, actor=front_desk).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["payment_refunded", "payment_taken"]


def test_a_no_show_fee_is_charged_once_from_the_frozen_terms(clinic, patient, now, policy):
    from booking import services as booking_services
    from booking.models import Appointment

    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    appointment = booking_services.change_status(
        appointment=appointment, status=Appointment.Status.NO_SHOW, now=at(TUESDAY, 11)
    )

    fee = services.charge_fee(
        appointment=appointment,
        actor=None,
        now=now,
        method=Payment.Method.TERMINAL,
        backend=OfflineBackend(),
    )
    with pytest.raises(services.PaymentRefused, match="already been charged"):
        services.charge_fee(
            appointment=appointment,
            actor=None,
            now=now,
            method=Payment.Method.TERMINAL,
            backend=OfflineBackend(),
        )
    assert fee.money == Money(Decimal("350.00"), "USD")
    assert Payment.objects.filter(fee=Payment.Fee.NO_SHOW).count() == 1


def test_a_visit_that_is_not_a_no_show_has_no_fee(clinic, patient, now, policy):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    with pytest.raises(services.PaymentRefused, match="Only a no-show"):
        services.charge_fee(appointment=appointment, actor=None, now=now, method="cash")


def test_card_on_file_without_a_card_asks_for_cash_or_terminal(clinic, patient, now):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    with pytest.raises(services.PaymentRefused, match="No card on file"):
        services.record_payment(
            appointment=appointment,
            kind=Payment.Kind.SESSION,
            method=Payment.Method.CARD_ON_FILE,
            money=Money(Decimal(350), "USD"),
            actor=None,
            now=now,
        )


def test_the_webhook_refuses_everything_when_payments_are_offline(client, db):
    response = client.post(
        "/payments/stripe/webhook/",
        b"{}",
        content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )

    assert response.status_code == 400


def test_the_review_page_terms_say_online_payments_are_off_without_keys(
    location, treatment, policy
):
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    draft = SimpleNamespace(location=location, treatment=treatment)

    html = render_to_string("payments/_terms.html", {"draft": draft})

    assert "A deposit of $70.00 is taken at the clinic." in html
    assert "Online payments are off: you pay at the clinic." in html
