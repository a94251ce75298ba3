"""An aesthetician signs in (password, then the code from their authenticator app), opens their
day, charts the visit in progress and sees it done."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from booking.models import Appointment
from tests import factories
from tests.e2e.conftest import ARTIFACTS, axe_violations
from tests.helpers import authenticator, totp_code

PASSWORD = "correct horse battery staple"


def visit_in_progress(provider, room, location, treatment) -> Appointment:
    """A visit that started a little while ago, on today's date in the location's zone."""
    now = timezone.now()
    midnight = datetime.combine(location.local(now).date(), time.min, tzinfo=location.zone)
    start = max(now - timedelta(minutes=20), midnight + timedelta(minutes=1)).replace(
        second=0, microsecond=0
    )
    appointment = Appointment(
        patient=factories.PatientFactory(first_name="Maya", last_name="Lindqvist", user=None),
        treatment=treatment,
        location=location,
        provider=provider,
        room=room,
        status=Appointment.Status.CHECKED_IN,
    )
    appointment.set_times(start)
    appointment.save()
    return appointment


@pytest.mark.django_db(transaction=True)
def test_an_aesthetician_charts_a_visit_and_sees_it_completed(live_server, page, clinic):
    provider = clinic["provider"]
    appointment = visit_in_progress(
        provider, clinic["room"], clinic["location"], clinic["treatment"]
    )

    phone = authenticator(provider.user)  # their authenticator app

    page.goto(live_server.url + "/staff/my-day/")
    page.get_by_label("Email").fill(provider.user.username)  # staff sign in by username
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Code").fill(totp_code(phone))
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="My day").wait_for()
    assert page.get_by_role("heading", name="Maya Lindqvist").is_visible()
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "aesthetician_day.png"), full_page=True)

    page.get_by_role("link", name="Chart this visit for Maya Lindqvist").click()
    page.get_by_label("Forehead depth in mm").fill("1.25")
    page.get_by_label("Cheeks depth in mm").fill("1.5")
    page.get_by_label("Numbing agent").fill("BLT 20/6/4")
    page.get_by_label("Device").fill("SkinPen Precision")
    page.get_by_label("Cartridge lot number").fill("LOT-2291")
    page.get_by_label("Even redness, pinpoint bleeding (expected end point)").check()
    page.get_by_label("Aftercare given").fill("Aftercare sheet; no makeup for 24 hours.")
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "aesthetician_chart.png"), full_page=True)
    page.get_by_role("button", name="Save chart and complete visit").click()

    page.get_by_text("Chart saved and the visit marked completed.").wait_for()
    visit = page.locator(f"#visit-{appointment.pk}")
    assert visit.get_by_text("Completed", exact=True).is_visible()
    assert visit.get_by_role("link", name="View chart for Maya Lindqvist").is_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "aesthetician_done.png"), full_page=True)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
