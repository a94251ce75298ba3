"""A patient on a phone, in a real browser: signs up and books a course, is offered a
consultation after reporting active acne, and cancels inside and outside the notice.

The live server runs on real time, so the clinic is open every day and visits are placed
relative to timezone.now(). Every page is checked with axe-core and for sideways scrolling
at 390 px."""

import re
import time as time_module
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking import services
from booking.models import Appointment, TreatmentPlan
from tests import factories
from tests.e2e.conftest import axe_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("isolated_cache")]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def open_clinic(treatment, screening_rules):
    """Buckhead, microneedling (3-5 sessions) and a consultation, an aesthetician working
    09:00-17:00 every day, and the default screening questions."""
    location = factories.LocationFactory(address="3400 Peachtree Rd NE, Atlanta")
    consultation = factories.TreatmentFactory(
        name="Consultation",
        is_consultation=True,
        duration_minutes=30,
        numbing_minutes=0,
        cleanup_minutes=0,
        price=0,
    )
    factories.RoomFactory(location=location, treatments=[treatment, consultation])
    provider = factories.ProviderFactory(
        locations=[location], treatments=[treatment, consultation], weekdays=range(7)
    )
    return {"location": location, "treatment": treatment, "provider": provider}


def check(page):
    """The page passes axe (no serious or critical problems) and does not scroll sideways."""
    # Let an htmx swap settle and button colour transitions finish before measuring contrast.
    page.locator(".htmx-request, .htmx-settling").first.wait_for(state="detached")
    page.wait_for_timeout(250)
    problems = axe_violations(page)
    if problems:
        details = page.evaluate(
            "async () => (await axe.run()).violations.map(v => [v.id, v.nodes.map(n => n.html)])"
        )
        pytest.fail(f"{page.url}: {problems} {details}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def sign_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


class Stopwatch:
    """Counts what a patient does: screens (page loads), taps and typed fields."""

    def __init__(self, page):
        self.page, self.screens, self.taps, self.typed = page, 1, 0, 0
        self.started = time_module.monotonic()

    def tap(self, locator):
        self.taps += 1
        locator.click()

    def type(self, locator, text):
        self.typed += 1
        locator.fill(text)

    def arrive(self, pattern):
        self.page.wait_for_url(re.compile(pattern))
        self.screens += 1
        check(self.page)

    def report(self) -> str:
        seconds = time_module.monotonic() - self.started
        return (
            f"new patient, 4-session course on a 390 px phone: {self.screens} screens, "
            f"{self.taps} taps, {self.typed} typed fields ({seconds:.1f} s of browser time)"
        )


def test_a_new_patient_books_a_four_session_course_in_six_screens(live_server, phone, open_clinic):
    base = live_server.url
    phone.goto(base + "/book/")
    check(phone)
    watch = Stopwatch(phone)
    watch.tap(phone.get_by_role("link", name=re.compile("Microneedling")))
    watch.arrive("/times/")  # one location: straight to the times, "first available"
    header = phone.locator("#week h2").first.get_attribute("data-day")
    assert header == phone.locator("#week details.day").first.get_attribute("data-day")
    watch.tap(phone.locator("#week button.slot").first)

    watch.arrive("/book/screening/")
    for radio in phone.get_by_role("radio", name="No").all():
        box = phone.locator(f"label[for='{radio.get_attribute('id')}']").bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44  # a thumb-sized target
        watch.tap(radio)
    watch.tap(phone.get_by_role("button", name="Continue"))

    watch.arrive("/book/review/")
    assert phone.evaluate("document.activeElement === document.body")  # no keyboard opens
    provider = open_clinic["provider"].display_name
    assert phone.locator("#with").inner_text() == provider
    assert phone.locator("#due-today").inner_text() == "Nothing today: you pay at the clinic"
    assert phone.get_by_text("We're holding this time for you").is_visible()
    phone.get_by_label("Number of sessions").select_option("4")
    watch.taps += 1
    phone.get_by_role("button", name="Book all 4 sessions now").wait_for()
    check(phone)
    assert "$1,400.00" in phone.locator("#course-total").inner_text()
    new_here = phone.get_by_role("heading", name=re.compile("I'm new here")).bounding_box()
    sign_in_link = phone.get_by_role("link", name="Sign in with a code we email you").bounding_box()
    assert new_here and sign_in_link and new_here["y"] < sign_in_link["y"]
    watch.type(phone.get_by_label("First name"), "Maya")
    watch.type(phone.get_by_label("Last name"), "Okafor")
    watch.type(phone.locator("#id_email"), "maya@example.com")
    watch.type(phone.get_by_label("Phone"), "+1 404 555 0123")
    watch.type(phone.get_by_label("Date of birth"), "1991-04-12")
    watch.tap(phone.get_by_label("Text me reminders"))
    watch.tap(phone.get_by_role("button", name="Book all 4 sessions now"))

    watch.arrive("/book/done/")
    assert phone.get_by_role("heading", name="You're booked!").is_visible()
    assert phone.get_by_text(f"with {provider}").first.is_visible()
    print(watch.report())
    assert watch.screens <= 6 and watch.taps <= 14

    plan = TreatmentPlan.objects.get(patient__email="maya@example.com")
    assert plan.sessions == 4
    assert plan.appointments.filter(status="booked").count() == 4
    assert not plan.patient.user.is_active

    # The email confirms the address; a password is optional.
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    phone.goto(link)
    check(phone)
    phone.get_by_role("button", name="Confirm my email").click()
    phone.wait_for_url(re.compile("/my/"))
    check(phone)
    assert phone.get_by_role("heading", name="Microneedling course").is_visible()
    assert phone.get_by_text("0 of 4 sessions done, 4 booked.").is_visible()
    phone.get_by_text("Session 2 of 4").click()
    check(phone)
    phone.get_by_role("link", name="Change time").click()
    check(phone)
    assert phone.get_by_text("Only times between").is_visible()
    phone.goto(base + "/my/details/")
    check(phone)


def test_a_returning_patient_signs_in_with_an_emailed_code_while_booking(
    live_server, phone, open_clinic
):
    patient = factories.PatientFactory(
        user__username="ana@example.com", user__email="ana@example.com"
    )
    base = live_server.url
    phone.goto(base + "/book/")
    phone.get_by_role("link", name=re.compile("Microneedling")).click()
    phone.locator("#week button.slot").first.click()
    phone.wait_for_url(re.compile("/book/screening/"))
    for radio in phone.get_by_role("radio", name="No").all():
        radio.check()
    phone.get_by_role("button", name="Continue").click()
    phone.wait_for_url(re.compile("/book/review/"))
    phone.get_by_role("link", name="Sign in with a code we email you").click()

    phone.wait_for_url(re.compile("/book/account/"))
    check(phone)
    phone.locator("#id_email").fill("ana@example.com")
    phone.get_by_role("button", name="Email me a sign-in code").click()
    phone.wait_for_url(re.compile("/book/account/"))
    check(phone)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    phone.get_by_label("Code from the email").fill(code)
    phone.get_by_role("button", name="Sign in and continue").click()

    phone.wait_for_url(re.compile("/book/review/"))
    check(phone)
    assert phone.get_by_text(patient.full_name).first.is_visible()
    phone.get_by_role("button", name="Book this session only").click()
    phone.wait_for_url(re.compile("/book/done/"))
    assert Appointment.objects.get().patient == patient

    phone.goto(base + "/accounts/code/")
    check(phone)


def test_a_patient_with_active_acne_is_offered_a_consultation(live_server, phone, open_clinic):
    patient = factories.PatientFactory(
        user__username="ana@example.com", user__email="ana@example.com"
    )
    base = live_server.url
    sign_in(phone, base, patient.user.username)
    check(phone)
    phone.goto(base + "/book/microneedling/buckhead/times/?with=any")
    phone.locator("#week button.slot").first.click()
    phone.wait_for_url(re.compile("/book/screening/"))
    for radio in phone.get_by_role("radio", name="No").all():
        radio.check()
    phone.get_by_role("group", name=re.compile("active acne")).get_by_label("Yes").check()
    phone.get_by_role("button", name="Continue").click()

    phone.wait_for_url(re.compile("/book/not-now/"))
    check(phone)
    assert phone.get_by_text("Treating over active breakouts can spread inflammation").is_visible()
    phone.get_by_role("button", name="Book a consultation").click()

    phone.wait_for_url(re.compile("/book/consultation/buckhead/"))
    check(phone)
    phone.get_by_role("link", name=re.compile("First available")).click()
    phone.locator("#week button.slot").first.click()
    phone.wait_for_url(re.compile("/book/review/"))
    check(phone)
    phone.get_by_role("button", name="Confirm booking").click()
    phone.wait_for_url(re.compile("/book/done/"))

    visit = Appointment.objects.get(patient=patient)
    assert (visit.treatment.name, visit.kind) == ("Consultation", "consultation")


def _local_visit(location, days_ahead: int) -> datetime:
    day = timezone.localtime(timezone.now(), location.zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(10), tzinfo=location.zone)


def test_a_patient_cancels_outside_the_notice_but_not_inside(live_server, phone, open_clinic):
    patient = factories.PatientFactory(
        user__username="lee@example.com", user__email="lee@example.com"
    )
    location = open_clinic["location"]
    book = {
        "patient": patient,
        "treatment": open_clinic["treatment"],
        "location": location,
        "now": timezone.now(),
        "staff": True,
    }
    soon = services.book_appointment(start=_local_visit(location, 1), **book)
    later = services.book_appointment(start=_local_visit(location, 5), **book)
    base = live_server.url
    sign_in(phone, base, patient.user.username)
    check(phone)

    phone.goto(f"{base}/my/visits/{soon.pk}/")
    check(phone)
    assert phone.get_by_text("can't be changed online").is_visible()
    assert phone.get_by_role("link", name="+1 404-555-0100").is_visible()
    assert phone.get_by_role("link", name="Cancel visit").count() == 0
    phone.goto(f"{base}/my/visits/{soon.pk}/cancel/")
    check(phone)
    assert phone.get_by_text("can't be cancelled online").is_visible()

    phone.goto(f"{base}/my/visits/{later.pk}/")
    phone.get_by_role("link", name="Cancel visit").click()
    check(phone)
    phone.get_by_role("button", name="Yes, cancel it").click()
    phone.wait_for_url(re.compile("/my/$"))
    check(phone)
    assert phone.get_by_text("Your visit is cancelled").is_visible()

    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.status, later.status) == ("booked", "cancelled")


def test_the_other_public_and_patient_pages_pass_axe_on_a_phone(live_server, phone, open_clinic):
    base = live_server.url
    for path in (
        "/treatments/",
        "/accounts/login/",
        "/accounts/sign-up/",
        "/accounts/password-reset/",
        "/accounts/password-reset/sent/",
        "/accounts/activate/x/y/",
    ):
        phone.goto(base + path)
        check(phone)
    patient = factories.PatientFactory(
        user__username="kim@example.com", user__email="kim@example.com"
    )
    first = services.start_plan(
        patient=patient,
        treatment=open_clinic["treatment"],
        location=open_clinic["location"],
        sessions=3,
        first_start=_local_visit(open_clinic["location"], 3),
        now=timezone.now(),
        staff=True,  # booked by the desk
    )
    sign_in(phone, base, patient.user.username)
    phone.goto(f"{base}/my/plans/{first.plan.pk}/next/")
    check(phone)
    assert phone.get_by_text("Only times between").is_visible()
