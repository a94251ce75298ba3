"""The desk's money: take a payment, refund with a reason, charge a fee once, the takings."""

from datetime import date
from decimal import Decimal

import pytest

from booking import services as booking_services
from booking.models import Appointment, AuditEntry
from payments.models import Charge, Payment, PaymentPolicy
from tests import factories
from tests.helpers import at, book, sign_in

TUESDAY = date(2027, 3, 2)


@pytest.fixture
def desk(client, front_desk, frozen):
    return sign_in(client, front_desk)


@pytest.fixture
def visit(clinic, patient, now):
    PaymentPolicy.objects.create(
        location=clinic["location"], no_show_fee=Charge.FIXED, no_show_fee_value=Decimal("75.50")
    )
    return book(clinic, patient, at(TUESDAY, 10), now)


def test_the_visit_page_shows_the_terms_and_takes_cash(desk, visit, front_desk):
    page = desk.get(f"/staff/appointments/{visit.pk}/").content.decode()
    assert "Missing the visit costs $75.50." in page

    response = desk.post(
        f"/staff/appointments/{visit.pk}/take-payment/",
        {"amount": "350.00", "method": "cash", "kind": "session"},
        follow=True,
    )

    assert "Took $350.00 (Cash)." in response.content.decode()
    payment = Payment.objects.get(appointment=visit)
    assert (payment.amount, payment.state, payment.taken_by) == (
        Decimal("350.00"),
        Payment.State.SUCCEEDED,
        front_desk,
    )


def test_a_bad_amount_is_a_message_not_an_error(desk, visit):
    response = desk.post(
        f"/staff/appointments/{visit.pk}/take-payment/",
        {"amount": "12.5.0", "method": "cash", "kind": "session"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Not taken: amount: Enter a number." in response.content.decode()
    assert not Payment.objects.exists()


def test_a_partial_refund_needs_a_reason_and_is_audited(desk, visit, front_desk):
    desk.post(
        f"/staff/appointments/{visit.pk}/take-payment/",
        {"amount": "350", "method": "terminal", "kind": "session"},
    )
    payment = Payment.objects.get()

    refused = desk.post(f"/staff/payments/{payment.pk}/refund/", {"amount": "50"}, follow=True)
    done = desk.post(
        f"/staff/payments/{payment.pk}/refund/",
        {"amount": "50", "reason": "Shorter session"},
        follow=True,
    )
    too_much = desk.post(
        f"/staff/payments/{payment.pk}/refund/", {"amount": "400", "reason": "Oops"}, follow=True
    )

    assert "Not refunded: reason" in refused.content.decode()
    assert "Refunded $50.00." in done.content.decode()
    assert "At most $300.00 of this payment can be refunded." in too_much.content.decode()
    payment.refresh_from_db()
    assert payment.refunded == Decimal("50.00")
    entry = AuditEntry.objects.get(action="payment_refunded")
    assert (entry.actor, entry.reason) == (front_desk, "Shorter session")


def test_the_no_show_fee_is_one_confirmed_click_and_only_once(desk, visit):
    booking_services.change_status(
        appointment=visit, status=Appointment.Status.NO_SHOW, now=at(TUESDAY, 11)
    )
    page = desk.get(f"/staff/appointments/{visit.pk}/").content.decode()
    assert "Yes, charge $75.50" in page

    first = desk.post(
        f"/staff/appointments/{visit.pk}/charge-fee/", {"method": "terminal"}, follow=True
    )
    second = desk.post(
        f"/staff/appointments/{visit.pk}/charge-fee/", {"method": "terminal"}, follow=True
    )

    assert "Charged the no-show fee of $75.50." in first.content.decode()
    assert "already been charged" in second.content.decode()
    assert "Yes, charge" not in second.content.decode()
    assert Payment.objects.filter(fee=Payment.Fee.NO_SHOW).count() == 1


def test_the_fee_needs_a_post_with_csrf(client, front_desk, visit, frozen):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, front_desk)

    assert strict.get(f"/staff/appointments/{visit.pk}/charge-fee/").status_code == 405
    assert (
        strict.post(f"/staff/appointments/{visit.pk}/charge-fee/", {"method": "cash"}).status_code
        == 403
    )


def test_patients_cannot_reach_the_money_pages(client, patient, visit, frozen):
    sign_in(client, patient.user)

    assert (
        client.post(f"/staff/appointments/{visit.pk}/charge-fee/", {"method": "cash"}).status_code
        == 403
    )
    assert client.get("/staff/takings/").status_code == 403


def test_takings_show_the_locations_day_with_totals(
    desk, clinic, now, front_desk, django_assert_num_queries
):
    for hour in (9, 11, 13):
        appointment = book(clinic, factories.PatientFactory(), at(TUESDAY, hour), now)
        desk.post(
            f"/staff/appointments/{appointment.pk}/take-payment/",
            {"amount": "175.50", "method": "cash", "kind": "session"},
        )
    payment = Payment.objects.first()
    desk.post(f"/staff/payments/{payment.pk}/refund/", {"amount": "25", "reason": "Goodwill"})

    page = desk.get("/staff/takings/?location=buckhead&date=2027-03-01").content.decode()

    assert "$526.50" in page  # taken
    assert "$501.50" in page  # net of the $25.00 refund
    assert "Goodwill" in page


def test_takings_queries_stay_constant(desk, clinic, now, django_assert_num_queries):
    def add(hour):
        appointment = book(clinic, factories.PatientFactory(), at(TUESDAY, hour), now)
        desk.post(
            f"/staff/appointments/{appointment.pk}/take-payment/",
            {"amount": "10", "method": "cash", "kind": "session"},
        )

    add(9)
    with django_assert_num_queries(9):  # session, user, groups, OTP..., 3 for the page
        assert "$10.00" in desk.get("/staff/takings/").content.decode()
    add(11)
    add(13)
    with django_assert_num_queries(9):
        assert "$30.00" in desk.get("/staff/takings/").content.decode()


def test_the_owners_report_shows_money_per_aesthetician_with_csv(desk, clinic, visit, now):
    from desk import reports

    desk.post(
        f"/staff/appointments/{visit.pk}/take-payment/",
        {"amount": "350.00", "method": "cash", "kind": "session"},
    )
    Payment.objects.update(kind=Payment.Kind.SESSION)
    payment = Payment.objects.get()
    desk.post(f"/staff/payments/{payment.pk}/refund/", {"amount": "20.25", "reason": "Late"})
    missed = book(clinic, factories.PatientFactory(), at(TUESDAY, 14), now)
    booking_services.change_status(
        appointment=missed, status=Appointment.Status.NO_SHOW, now=at(TUESDAY, 15)
    )

    report = reports.owner_report(
        first=date(2027, 3, 1), last=date(2027, 3, 7), location=None, today=date(2027, 3, 8)
    )
    csv = desk.get("/staff/reports/export.csv?first=2027-03-01&last=2027-03-07").content.decode()

    [row] = report.money
    assert row.aesthetician == clinic["provider"].display_name
    assert str(row.revenue) == "$329.75"
    assert (row.fees_waived, row.refunds) == (1, Decimal("20.25"))
    assert f"money,Buckhead,{clinic['provider'].display_name},USD,329.75,0,0,1,20.25" in csv


# The patient's own payments page ------------------------------------------------------------


def test_patients_see_only_their_own_payments_in_constant_queries(
    client, clinic, patient, now, frozen, django_assert_num_queries
):
    from payments.backends import OfflineBackend
    from treatments.money import Money

    def paid(who, hour, amount):
        appointment = book(clinic, who, at(TUESDAY, hour), now)
        return services_record(appointment, Money(Decimal(amount), "USD"), OfflineBackend())

    paid(patient, 9, "175.50")
    paid(factories.PatientFactory(), 11, "999.00")
    sign_in(client, patient.user)

    # 9: the 8 before, plus the courses paid up front (payments.courses.balances_of).
    with django_assert_num_queries(9):
        page = client.get("/my/payments/").content.decode()
    paid(patient, 13, "20.00")
    with django_assert_num_queries(9):
        more = client.get("/my/payments/").content.decode()

    assert "$175.50" in page and "$999.00" not in page
    assert "$20.00" in more
    assert "Online payments are off: you pay at the clinic." in page


def services_record(appointment, money, backend):
    from payments import services

    return services.record_payment(
        appointment=appointment,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=money,
        actor=None,
        now=appointment.created_at,
        backend=backend,
    )


def test_a_patient_removes_the_card_on_file(client, patient, frozen):
    from payments.models import SavedCard

    SavedCard.objects.create(
        patient=patient,
        backend="offline",
        customer_id="c",
        method_id="m",
        brand="visa",
        last4="4242",
    )
    sign_in(client, patient.user)
    assert "Visa ending 4242" in client.get("/my/payments/").content.decode()

    after = client.post("/my/payments/", follow=True).content.decode()

    assert "Your card is removed." in after and "No card on file." in after
    assert not SavedCard.objects.exists()
    assert AuditEntry.objects.filter(action="card_removed", patient=patient).exists()


def test_another_patients_payment_page_is_a_404(client, clinic, patient, now, frozen):
    from payments.backends import OfflineBackend
    from treatments.money import Money

    other = factories.PatientFactory()
    appointment = book(clinic, other, at(TUESDAY, 9), now)
    payment = services_record(appointment, Money(Decimal(10), "USD"), OfflineBackend())
    sign_in(client, patient.user)

    assert client.get(f"/pay/{payment.pk}/").status_code == 404
