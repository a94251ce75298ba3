"""A 4-session course paid up front, on a phone: the patient keeps a card on file through
Stripe Elements (localstripe's Stripe.js) as the terms ask, the desk takes the course price
from that card, a visit is cancelled late, and the patient sees a prepaid session used."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from booking import services as booking_services
from payments import services
from payments.models import Charge, Payment, PaymentPolicy, PrepaidSessionUse, SavedCard
from tests import factories
from tests.e2e.conftest import axe_violations
from tests.e2e.test_patient_booking import sign_in
from tests.helpers import captured_on_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("isolated_cache")]


def test_a_course_paid_up_front_loses_a_session_to_a_late_cancel(
    live_server, phone, clinic, stripe_backend, front_desk
):
    location = clinic["location"]
    PaymentPolicy.objects.create(
        location=location,
        card_on_file_required=True,
        course_discount_percent=Decimal(10),
        late_cancel_fee=Charge.FIXED,
        late_cancel_fee_value=Decimal(50),
    )
    now = timezone.now()
    day = (now + timedelta(days=1)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    patient = factories.PatientFactory()
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=location,
        sessions=4,
        first_start=datetime.combine(day, time(10), tzinfo=location.zone),
        now=now,
        staff=True,
    )
    first = plan.appointments.order_by("start").first()
    assert services.ask_for_card(appointment=first, now=now, backend=stripe_backend)

    sign_in(phone, live_server.url, patient.user.username)
    phone.goto(f"{live_server.url}/pay/visit/{first.pk}/card-on-file/")
    assert "Keep a card on file" in phone.content()
    assert not axe_violations(phone)
    phone.get_by_placeholder("number").fill("4242424242424242")
    phone.get_by_placeholder("exp_month").fill("12")
    phone.get_by_placeholder("exp_year").fill("34")
    phone.get_by_placeholder("cvc").fill("123")
    phone.get_by_placeholder("postal_code").fill("30305")
    phone.get_by_role("button", name="Save my card").click()
    phone.get_by_text("Your card ending 4242 is on file.").wait_for()
    assert SavedCard.objects.get(patient=patient).last4 == "4242"

    # The desk sells the course on the card on file ($1,260.00: 4 x $350.00 less 10%) and
    # cancels the first visit inside the 48-hour notice.
    course = services.sell_course(
        plan=plan,
        method=Payment.Method.CARD_ON_FILE,
        actor=front_desk,
        now=timezone.now(),
        backend=stripe_backend,
    )
    assert captured_on_backend(stripe_backend, [course.backend_id]) == 126000
    booking_services.cancel_appointment(appointment=first, now=timezone.now(), staff=True)
    assert PrepaidSessionUse.objects.filter(appointment=first).exists()

    phone.goto(f"{live_server.url}/my/payments/")
    phone.get_by_text("1 prepaid session used").wait_for()
    page = phone.content()
    assert "$1,260.00 paid up front" in page and "3 of 4 left" in page
    assert not Payment.objects.filter(kind=Payment.Kind.FEE).exists()
    assert not axe_violations(phone)
