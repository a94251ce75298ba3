"""Courses sold as prepaid packages: the course price, a late cancel using up a session
instead of a fee, and refunds of the unused sessions when a course ends."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from booking import services as booking_services
from booking.models import AuditEntry
from payments import courses, services
from payments.backends import OfflineBackend
from payments.models import Charge, Payment, PaymentPolicy
from tests.helpers import at
from treatments.money import Money

TUESDAY = date(2027, 3, 2)
OFFLINE = OfflineBackend()


@pytest.fixture
def course(clinic, patient, now):
    PaymentPolicy.objects.create(
        location=clinic["location"],
        course_discount_percent=Decimal(10),
        late_cancel_fee=Charge.FIXED,
        late_cancel_fee_value=Decimal(50),
    )
    return booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_start=at(TUESDAY, 10),
        now=now,
        staff=True,
    )


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def test_four_sessions_at_10_percent_off_are_paid_up_front(course, now, front_desk):
    assert courses.course_price(course) == usd("1260.00")  # 4 x $350.00 less 10%

    payment = services.sell_course(
        plan=course, method=Payment.Method.CASH, actor=front_desk, now=now, backend=OFFLINE
    )
    with pytest.raises(services.PaymentRefused, match="already paid"):
        services.sell_course(plan=course, method="cash", actor=front_desk, now=now)

    assert (payment.kind, payment.money) == (Payment.Kind.COURSE, usd("1260.00"))
    left = courses.balance(course)
    assert (left.used, left.remaining_sessions, left.remaining_value) == (0, 4, usd("1260.00"))


def test_a_late_cancel_uses_up_a_prepaid_session_instead_of_a_fee(course, now, front_desk):
    services.sell_course(plan=course, method="cash", actor=front_desk, now=now, backend=OFFLINE)
    second = course.appointments.order_by("start")[1]
    late = second.start - timedelta(hours=2)
    second = booking_services.cancel_appointment(appointment=second, now=late, staff=True)

    outcome = services.charge_fee(
        appointment=second, actor=front_desk, now=late, method="cash", backend=OFFLINE
    )

    assert outcome is None
    assert not Payment.objects.filter(kind=Payment.Kind.FEE).exists()
    left = courses.balance(course)
    assert (left.used, left.remaining_sessions, left.remaining_value) == (1, 3, usd("945.00"))
    assert AuditEntry.objects.filter(action="prepaid_session_used", appointment=second).exists()


def test_a_late_cancel_without_a_prepaid_course_pays_the_fee(course, now, front_desk):
    first = course.appointments.order_by("start")[0]
    late = first.start - timedelta(hours=2)
    first = booking_services.cancel_appointment(appointment=first, now=late, staff=True)

    fee = services.charge_fee(
        appointment=first, actor=front_desk, now=late, method="cash", backend=OFFLINE
    )

    assert fee is not None and fee.money == usd("50.00")


def test_cancelling_a_course_refunds_the_unused_sessions_pro_rata(course, now, front_desk):
    payment = services.sell_course(
        plan=course, method="cash", actor=front_desk, now=now, backend=OFFLINE
    )
    first = course.appointments.order_by("start")[0]
    booking_services.change_status(
        appointment=first, status="completed", now=first.start + timedelta(hours=1)
    )

    refund = services.end_course(
        plan=course,
        reason="Moving away",
        medical=False,
        actor=front_desk,
        now=now,
        backend=OFFLINE,
    )

    assert refund.money == usd("945.00")  # 3 of 4 sessions unused
    payment.refresh_from_db()
    assert payment.refundable == usd("315.00")


def test_a_course_stopped_for_a_medical_reason_is_refunded_in_full(course, now, front_desk):
    payment = services.sell_course(
        plan=course, method="cash", actor=front_desk, now=now, backend=OFFLINE
    )
    first = course.appointments.order_by("start")[0]
    booking_services.change_status(
        appointment=first, status="completed", now=first.start + timedelta(hours=1)
    )

    refund = services.end_course(
        plan=course,
        reason="Pregnancy: not now",
        medical=True,
        actor=front_desk,
        now=now,
        backend=OFFLINE,
    )

    assert refund.money == usd("1260.00")
    payment.refresh_from_db()
    assert payment.state == Payment.State.REFUNDED


def test_the_desk_sells_the_course_and_sees_the_balance_on_the_plan_page(
    client, course, front_desk, frozen
):
    from tests.helpers import sign_in

    sign_in(client, front_desk)
    page = client.get(f"/staff/plans/{course.pk}/").content.decode()
    assert "Take $1,260.00 for all 4 sessions up front" in page

    after = client.post(
        f"/staff/plans/{course.pk}/sell-course/", {"method": "terminal"}, follow=True
    ).content.decode()

    assert "Took $1,260.00 for the course." in after
    assert "Paid $1,260.00 up front · 0 of 4 sessions used" in after


def test_a_late_cancel_by_the_desk_uses_a_session_the_patient_sees(
    course, patient, now, front_desk, client, django_assert_num_queries
):
    import time_machine

    from tests.helpers import sign_in

    services.sell_course(plan=course, method="cash", actor=front_desk, now=now, backend=OFFLINE)
    first = course.appointments.order_by("start")[0]
    late = first.start - timedelta(hours=3)  # inside the 48-hour notice

    booking_services.cancel_appointment(appointment=first, now=late, staff=True)

    first.refresh_from_db()
    assert first.late_cancellation
    # The session is used up already: the desk's fee button charges nothing.
    fee = services.charge_fee(
        appointment=first, actor=front_desk, now=late, method="cash", backend=OFFLINE
    )
    assert fee is None and not Payment.objects.filter(kind=Payment.Kind.FEE).exists()
    with time_machine.travel(now, tick=False):
        sign_in(client, patient.user)
        page = client.get("/my/payments/").content.decode()
    assert "1 prepaid session used" in page
    assert "3 of 4 left" in page
    assert "$1,260.00 paid up front" in page


def test_a_patients_courses_are_read_in_one_query(clinic, patient, now, front_desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def plan(week):
        made = booking_services.book_plan(
            patient=patient,
            treatment=clinic["treatment"],
            location=clinic["location"],
            sessions=4,
            first_start=at(TUESDAY + timedelta(weeks=week), 10),
            now=now,
            staff=True,
        )
        services.sell_course(plan=made, method="cash", actor=front_desk, now=now, backend=OFFLINE)

    plan(0)
    with CaptureQueriesContext(connection) as one:
        assert len(courses.balances_of(patient)) == 1
    plan(20)
    plan(40)
    with CaptureQueriesContext(connection) as three:
        assert len(courses.balances_of(patient)) == 3
    assert len(one) == len(three) == 1
