"""A Spanish-speaking new patient on a 390-px phone (browser asking for es-MX): books a course
paying a deposit, then a second course paid up front, looks at "Mis pagos", moves one visit
and cancels another. Stripe Elements is localstripe's Stripe.js. Every page passes axe and
does not scroll sideways (`check`). With SHOTS_DIR set, each step is saved as a PNG there."""

import os
import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from booking.models import Appointment, TreatmentPlan
from payments import declines, services
from payments.models import Charge, Payment, PaymentPolicy
from tests import factories
from tests.e2e.test_patient_booking import PASSWORD, check, open_clinic  # noqa: F401 (a fixture)
from tests.helpers import book, captured_on_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("isolated_cache")]

SHOTS = os.environ.get("SHOTS_DIR", "")
DECLINED_ES = "Tu tarjeta fue rechazada. Prueba con otra tarjeta o paga en la clínica."


@pytest.fixture
def spanish_phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="es-MX"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def shot(page, name: str) -> None:
    check(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def pay_with_card(page, number="4242424242424242", *, paid=True) -> None:
    """localstripe's Stripe.js card field (its placeholders are field names)."""
    page.get_by_placeholder("number").fill(number)
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("34")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("30305")
    page.locator("#card-form button[type=submit]").click()
    if paid:
        page.locator("#payment-state.alert-success").wait_for()


def choose_first_time(page, base: str, treatment: str) -> None:
    page.goto(base + "/book/")
    page.get_by_role("link", name=re.compile(treatment)).click()
    page.wait_for_url(re.compile("/times/"))
    page.locator("#week button.slot").first.click()
    page.wait_for_url(re.compile("/book/(screening|review)/"))
    if "/screening/" in page.url:
        for radio in page.get_by_role("radio", name="No").all():
            radio.click()
        page.locator("main form [type=submit]").last.click()
    page.wait_for_url(re.compile("/book/review/"))


def test_a_spanish_patient_pays_a_deposit_then_a_course_and_changes_visits(
    live_server,
    spanish_phone,
    open_clinic,  # noqa: F811 (the fixture imported above)
    stripe_backend,
):
    location = open_clinic["location"]
    PaymentPolicy.objects.create(
        location=location,
        deposit=Charge.PERCENT,
        deposit_value=Decimal(20),
        course_discount_percent=Decimal(10),
    )
    peel = factories.ProtocolFactory(
        treatment=factories.TreatmentFactory(name="Chemical Peel", price=Decimal("200.00"))
    ).treatment
    for room in location.rooms.all():
        room.treatments.add(peel)
    open_clinic["provider"].treatments.add(peel)
    phone, base = spanish_phone, live_server.url

    # 1. A course of 4 microneedling sessions, paying the first deposit.
    choose_first_time(phone, base, "Microneedling")
    assert phone.locator("html").get_attribute("lang") == "es"
    phone.locator("#sessions").select_option("4")
    phone.locator("input[name=sessions][value='4']").wait_for(state="attached")
    phone.locator("#pay-sessions").check()
    phone.locator("#id_first_name").fill("Lucía")
    phone.locator("#id_last_name").fill("Guerrero")
    phone.locator("#id_email").fill("lucia@example.com")
    phone.locator("#id_phone").fill("+1 404 555 0142")
    phone.locator("#id_date_of_birth").fill("1990-06-02")
    shot(phone, "01-review-deposit")
    phone.locator("button[name=choice][value=all]").click()
    phone.wait_for_url(re.compile(r"/pay/\d+/"))
    shot(phone, "02-pay-deposit")
    pay_with_card(phone)
    shot(phone, "03-deposit-paid")
    deposit = Payment.objects.get(kind=Payment.Kind.DEPOSIT)
    assert deposit.state == Payment.State.SUCCEEDED
    assert captured_on_backend(stripe_backend, [deposit.backend_id]) == 7000

    # The emailed link confirms the address and signs her in.
    welcome = next(m.body for m in mail.outbox if "/activate/" in m.body)
    phone.goto(re.search(r"https?://\S+/activate/\S+", welcome).group(0))
    phone.locator("main form [type=submit]").last.click()
    phone.wait_for_url(re.compile("/my/"))

    # 2. A course of chemical peels, paid up front (3 × $200 less 10% = $540.00).
    choose_first_time(phone, base, "Chemical Peel")
    phone.locator("#pay-course").wait_for()
    phone.locator("#pay-course").check()
    shot(phone, "04-review-course-up-front")
    phone.locator("button[name=choice][value=all]").click()
    phone.wait_for_url(re.compile(r"/pay/\d+/"))
    shot(phone, "05-pay-course")
    pay_with_card(phone)
    shot(phone, "06-course-paid")
    course = Payment.objects.get(kind=Payment.Kind.COURSE)
    assert (course.state, course.amount) == (Payment.State.SUCCEEDED, Decimal("540.00"))

    # 3. "Mis pagos" and "Mis citas".
    phone.goto(base + "/my/payments/")
    shot(phone, "07-my-payments")
    phone.goto(base + "/my/")
    shot(phone, "08-my-appointments")

    # 4. Move the second microneedling visit, then cancel the third.
    needling = TreatmentPlan.objects.get(treatment=open_clinic["treatment"])
    second, third = list(needling.appointments.order_by("start"))[1:3]
    phone.goto(f"{base}/my/visits/{second.pk}/")
    shot(phone, "09-visit")
    phone.goto(f"{base}/my/visits/{second.pk}/reschedule/")
    summary = phone.locator("#week details summary").first
    if not phone.locator("#week button.slot").first.is_visible():
        summary.click()
    shot(phone, "10-reschedule")
    old_start = second.start
    phone.locator("#week button.slot").first.click()
    phone.wait_for_url(re.compile(rf"/my/visits/{second.pk}/$"))
    shot(phone, "11-moved")
    second.refresh_from_db()
    assert second.start != old_start and second.is_active

    phone.goto(f"{base}/my/visits/{third.pk}/cancel/")
    shot(phone, "12-cancel")
    phone.locator("main form [type=submit]").last.click()
    phone.wait_for_url(re.compile("/my/$"))
    shot(phone, "13-cancelled")
    third.refresh_from_db()
    assert third.status == Appointment.Status.CANCELLED


def test_a_declined_card_is_told_in_our_words_in_spanish(
    live_server, spanish_phone, clinic, stripe_backend
):
    """localstripe keeps an intent whose charge failed refused for good (real Stripe takes a
    second card on it), so the declined card has its own visit here."""
    location = clinic["location"]
    PaymentPolicy.objects.create(
        location=location, deposit=Charge.PERCENT, deposit_value=Decimal(20)
    )
    now = timezone.now()
    day = (now + timedelta(days=5)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(10), tzinfo=location.zone)
    patient = factories.PatientFactory(language="es")
    visit = book(clinic, patient, start, now)
    payment = services.start_deposit(appointment=visit, now=now, backend=stripe_backend)
    assert payment is not None
    phone, base = spanish_phone, live_server.url
    phone.goto(base + "/accounts/login/")
    phone.locator("#id_username").fill(patient.user.username)
    phone.locator("#id_password").fill(PASSWORD)
    phone.locator("main form [type=submit]").last.click()
    phone.wait_for_load_state()

    phone.goto(f"{base}/pay/{payment.pk}/")
    pay_with_card(phone, "4000000000000341", paid=False)
    phone.locator("#card-errors:not(:empty)").wait_for()

    said = phone.locator("#card-errors").inner_text()
    # Spanish once es-pay2.py is in the catalogue; our English sentence until then.
    assert said in {DECLINED_ES, declines.card_problem("card_declined")}, said
    assert said != "Your card was declined."
    shot(phone, "05b-card-declined")
    payment.refresh_from_db()
    assert payment.state == Payment.State.PENDING  # the time is still held: another card
