"""A new patient on a phone books a 4-session course and pays for it up front online: the
review page offers the course now (10% off) or session by session, the pay page takes the
card through Stripe Elements (localstripe's Stripe.js), and the course is prepaid once the
Stripe server, not the browser, says so. A visit cancelled late then uses up a prepaid
session instead of a fee, and the patient sees it on their course card and "My payments"."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from booking import services as booking_services
from booking.models import TreatmentPlan
from payments import courses
from payments.models import Charge, Payment, PaymentPolicy, PrepaidSessionUse
from tests.e2e.test_patient_booking import check, open_clinic  # noqa: F401 (a fixture)
from tests.helpers import captured_on_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("isolated_cache")]


def test_a_new_patient_pays_a_course_up_front_and_a_late_cancel_uses_a_session(
    live_server,
    phone,
    open_clinic,  # noqa: F811 (the fixture imported above)
    stripe_backend,
):
    PaymentPolicy.objects.create(
        location=open_clinic["location"],
        deposit=Charge.PERCENT,
        deposit_value=Decimal(20),
        course_discount_percent=Decimal(10),
        late_cancel_fee=Charge.FIXED,
        late_cancel_fee_value=Decimal(50),
    )
    base = live_server.url
    phone.goto(base + "/book/")
    phone.get_by_role("link", name=re.compile("Microneedling")).click()
    phone.wait_for_url(re.compile("/times/"))
    phone.locator("#week button.slot").first.click()
    phone.wait_for_url(re.compile("/book/screening/"))
    for radio in phone.get_by_role("radio", name="No").all():
        radio.click()
    phone.get_by_role("button", name="Continue").click()

    phone.wait_for_url(re.compile("/book/review/"))
    phone.get_by_label("Number of sessions").select_option("4")
    phone.get_by_role("button", name="Book all 4 sessions now").wait_for()
    course_now = phone.get_by_label(re.compile(r"Pay for the course now: \$1,260\.00"))
    course_now.wait_for()
    assert phone.get_by_text("You save $140.00.").is_visible()
    assert phone.get_by_label(re.compile("Pay session by session")).is_visible()
    check(phone)
    course_now.check()
    phone.get_by_label("First name").fill("Maya")
    phone.get_by_label("Last name").fill("Okafor")
    phone.locator("#id_email").fill("maya@example.com")
    phone.get_by_label("Phone").fill("+1 404 555 0123")
    phone.get_by_label("Date of birth").fill("1991-04-12")
    phone.get_by_role("button", name="Book all 4 sessions now").click()

    phone.wait_for_url(re.compile(r"/pay/\d+/"))
    assert phone.get_by_role("heading", name="Pay for your course").is_visible()
    assert phone.get_by_text("4 sessions paid up front, $1,260.00.").is_visible()
    check(phone)
    phone.get_by_placeholder("number").fill("4242424242424242")
    phone.get_by_placeholder("exp_month").fill("12")
    phone.get_by_placeholder("exp_year").fill("34")
    phone.get_by_placeholder("cvc").fill("123")
    phone.get_by_placeholder("postal_code").fill("30305")
    phone.get_by_role("button", name="Pay $1,260.00").click()
    phone.get_by_text("Paid, thank you. Your course is booked and paid for.").wait_for()
    check(phone)

    plan = TreatmentPlan.objects.get(patient__email="maya@example.com")
    course = Payment.objects.get(plan=plan, kind=Payment.Kind.COURSE)
    assert course.state == Payment.State.SUCCEEDED
    assert captured_on_backend(stripe_backend, [course.backend_id]) == 126000
    assert plan.appointments.filter(status="booked").count() == 4
    # No deposit was charged as well: the course replaced it.
    assert not Payment.objects.filter(kind=Payment.Kind.DEPOSIT).succeeded().exists()

    # The patient calls: the first visit (inside the 48-hour notice) is cancelled late.
    first = plan.appointments.order_by("start").first()
    booking_services.cancel_appointment(appointment=first, now=timezone.now(), staff=True)
    first.refresh_from_db()
    assert first.late_cancellation
    assert PrepaidSessionUse.objects.filter(appointment=first).exists()
    left = courses.balance(plan)
    assert left is not None and (left.used, left.remaining_sessions) == (1, 3)

    # The email confirms the address; then "My payments" shows what is paid and what is left.
    welcome = next(m.body for m in mail.outbox if "/activate/" in m.body)
    link = re.search(r"https?://\S+/activate/\S+", welcome).group(0)
    phone.goto(link)
    phone.get_by_role("button", name="Confirm my email").click()
    phone.wait_for_url(re.compile("/my/"))
    assert "$1,260.00 paid up front · 3 of 4 left" in phone.locator(".plan-paid").inner_text()
    phone.goto(base + "/my/payments/")
    phone.get_by_text("1 prepaid session used").wait_for()
    page = phone.content()
    assert "$1,260.00 paid up front" in page and "3 of 4 left" in page
    assert "worth $945.00" in page  # 3 sessions of $315.00
    assert not Payment.objects.filter(kind=Payment.Kind.FEE).exists()
    check(phone)
