"""A patient signs their consent form on a 390 px phone, drawing the signature with the mouse;
their aesthetician then sees "Consent signed" on My day."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from booking.models import Appointment
from consent.models import ConsentSignature
from tests import factories
from tests.consent_helpers import consent_form
from tests.e2e.conftest import ARTIFACTS, axe_violations
from tests.helpers import authenticator, totp_code

PASSWORD = "correct horse battery staple"


def visit_later_today(clinic, patient) -> Appointment:
    location = clinic["location"]
    now = timezone.now()
    midnight = datetime.combine(location.local(now).date(), time.min, tzinfo=location.zone)
    start = min(now + timedelta(hours=2), midnight + timedelta(hours=22)).replace(
        second=0, microsecond=0
    )
    appointment = Appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=location,
        provider=clinic["provider"],
        room=clinic["room"],
        status=Appointment.Status.BOOKED,
    )
    appointment.set_times(start)
    appointment.save()
    return appointment


def draw(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * step), y + h * (0.3 + 0.4 * (step % 2)), steps=3)
    page.mouse.up()


@pytest.mark.django_db(transaction=True)
def test_a_patient_signs_on_a_phone_and_my_day_shows_it(live_server, phone, page, clinic):
    version = consent_form(clinic["treatment"], now=timezone.now())
    user = factories.UserFactory(username="maya@example.com", email="maya@example.com")
    patient = factories.PatientFactory(user=user, first_name="Maya", last_name="Lindqvist")
    visit = visit_later_today(clinic, patient)

    phone.goto(f"{live_server.url}/accounts/login/?next=/my/visits/{visit.pk}/")
    phone.get_by_label("Email").fill("maya@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.get_by_role("link", name="Sign your consent form").click()

    phone.get_by_role("heading", name="Sign your consent form").wait_for()
    assert phone.get_by_text("redness").is_visible()
    pad = phone.locator("canvas[data-signature-pad]").bounding_box()
    assert pad is not None and 300 <= pad["width"] <= 390  # fits the phone, no sideways scroll
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(phone) == []

    phone.get_by_role("button", name="Sign").click()  # nothing drawn yet
    phone.get_by_text("Please sign in the box.").wait_for()

    phone.get_by_label("I have read the aftercare.").check()
    draw(phone, "canvas[data-signature-pad]")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "consent_signing_phone.png"), full_page=True)
    phone.get_by_role("button", name="Sign").click()
    phone.get_by_text("Signed: Microneedling consent (v1).").wait_for()

    signature = ConsentSignature.objects.get(patient=patient)
    assert signature.version == version
    assert signature.answers == {"I have read the aftercare.": True, "I am not pregnant.": False}
    assert signature.signature_image.read().startswith(b"\x89PNG")
    pdf = phone.request.get(f"{live_server.url}/consents/{signature.pk}/form.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    provider = clinic["provider"]
    device = authenticator(provider.user)
    page.goto(live_server.url + "/staff/my-day/")
    page.get_by_label("Email").fill(provider.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="My day").wait_for()
    card = page.locator(f"#visit-{visit.pk}")
    assert "Consent signed (v1," in card.inner_text()
