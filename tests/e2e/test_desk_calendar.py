"""The desk calendar in a real browser: it opens at now, past cells are inert, cleanup and
numbing are drawn as part of a visit, a visit is checked in with one click; and the patient
record does not scroll sideways on a 390 px phone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from booking import services
from booking.models import Appointment
from tests import factories
from tests.e2e.conftest import axe_violations
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def late_morning_zone() -> str:
    """A zone where it is late morning now, so today has past cells and a visit to check in
    inside 9-17 working hours, whenever the test runs."""
    now = datetime.now(UTC)
    zones = [f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT" for offset in range(-11, 13)]
    return min(zones, key=lambda z: abs(now.astimezone(ZoneInfo(z)).hour * 60 - 11 * 60 - 30))


def signed_in(page, live_server, client: Client):
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


@pytest.fixture
def clinic():
    location = factories.LocationFactory(time_zone=late_morning_zone())
    treatment = factories.ProtocolFactory().treatment  # 30 numbing, 60 treatment, 15 cleanup
    factories.RoomFactory(location=location, name="Room 1", treatments=[treatment])
    anna = factories.ProviderFactory(
        display_name="Anna Avery",
        locations=[location],
        treatments=[treatment],
        weekdays=range(7),
    )
    desk = factories.UserFactory(username="frontdesk", groups=["Front desk"])
    client = Client()
    sign_in(client, desk)
    return {"location": location, "treatment": treatment, "anna": anna, "client": client}


def test_the_calendar_opens_at_now_draws_cleanup_and_checks_in_with_one_click(
    live_server, page, clinic
):
    location, zone = clinic["location"], clinic["location"].zone
    now = datetime.now(UTC).astimezone(zone)
    soon = now.replace(second=0, microsecond=0) + timedelta(minutes=30 - now.minute % 15)
    patient = factories.PatientFactory(user=None, first_name="Cleo", last_name="Early")
    visit = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=location,
        start=soon,
        now=datetime.now(UTC),
        provider=clinic["anna"],
        staff=True,
    )
    signed_in(page, live_server, clinic["client"])

    page.goto(f"{live_server.url}/staff/calendar/?location={location.slug}")

    # Opens at now: the red line is in view without scrolling, the grid is scrolled past 08:00.
    scroll = page.locator(".cal-scroll")
    assert scroll.evaluate("box => box.scrollTop") > 0
    box, line = scroll.bounding_box(), page.locator(".cal-now").bounding_box()
    assert box["y"] <= line["y"] <= box["y"] + box["height"]

    # Past cells are shown but are not links; the first free cell after now is one.
    past = page.locator(".cal-cell.is-past")
    assert past.count() > 0
    assert past.first.evaluate("cell => cell.tagName") == "SPAN"
    assert page.get_by_role("link", name=f"Book {now:%H}:00, Anna Avery").count() == 0

    # The visit covers numbing to cleanup: its bottom edge is the cell where cleanup ends.
    block = page.locator(f".cal-appt[data-id='{visit.pk}']")
    held = visit.held_until.astimezone(zone)
    cleanup = block.locator(".cal-appt-cleanup")
    assert cleanup.inner_text() == f"Cleanup to {held:%H:%M}"
    assert block.locator(".cal-appt-numbing").inner_text().startswith("Numbing to")
    after = page.locator(f".cal-col .cal-cell[data-time='{held:%H:%M}']").bounding_box()
    bottom = block.bounding_box()
    assert abs(bottom["y"] + bottom["height"] - after["y"]) < 4
    assert block.get_attribute("title").endswith(f"cleanup until {held:%H:%M}")
    assert axe_violations(page) == []
    page.screenshot(path="/tmp/desk-calendar-now.png", full_page=True)

    url = page.url
    block.get_by_role("button", name="Check in Cleo Early").click()

    page.locator(f".cal-appt.status-checked_in[data-id='{visit.pk}']").wait_for()
    assert page.url == url  # no page load: the block was swapped in place
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CHECKED_IN
    assert page.locator(f".cal-appt[data-id='{visit.pk}'] .cal-checkin").count() == 0


def test_the_patient_record_fits_a_phone(live_server, phone, clinic):
    patient = factories.PatientFactory(
        user=None,
        first_name="Maximiliana",
        last_name="Featherstonehaugh-Worthington",
        email="maximiliana.featherstonehaugh-worthington@example.com",
        sms_consent=False,
    )
    start = datetime.now(UTC) + timedelta(days=3)
    start = start.astimezone(clinic["location"].zone).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=datetime.now(UTC),
        provider=clinic["anna"],
        staff=True,
    )
    signed_in(phone, live_server, clinic["client"])

    phone.goto(f"{live_server.url}/staff/patients/{patient.pk}/")

    phone.get_by_role("heading", name="Audit trail").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "Skipped: no SMS consent" in phone.content()
    phone.screenshot(path="/tmp/desk-patient-phone.png", full_page=True)


def test_numbing_during_another_visit_is_drawn_as_numbing_not_a_double_booking(
    live_server, page, clinic
):
    location, zone = clinic["location"], clinic["location"].zone
    factories.RoomFactory(location=location, name="Room 2", treatments=[clinic["treatment"]])
    day = (datetime.now(UTC).astimezone(zone) + timedelta(days=1)).date()
    ten = datetime(day.year, day.month, day.day, 10, tzinfo=zone)
    first, second = (
        services.book_appointment(
            patient=factories.PatientFactory(user=None, last_name=name),
            treatment=clinic["treatment"],
            location=location,
            start=start,
            now=datetime.now(UTC),
            provider=clinic["anna"],
            staff=True,
        )
        # Anna treats the first 10:30-11:45 (cleanup included); the second numbs from 11:15.
        for name, start in (("First", ten), ("Second", ten + timedelta(minutes=75)))
    )
    signed_in(page, live_server, clinic["client"])

    page.goto(f"{live_server.url}/staff/calendar/?location={location.slug}&date={day}")

    one = page.locator(f".cal-appt[data-id='{first.pk}']").bounding_box()
    two = page.locator(f".cal-appt[data-id='{second.pk}']").bounding_box()
    assert abs(one["width"] - two["width"]) < 2  # one lane: not drawn as a clash
    assert two["y"] >= one["y"] + one["height"] - 2  # the second's block starts at treatment
    numbing = page.locator(".cal-numbing-shared")
    assert "Numbing" in numbing.inner_text() and "Second" in numbing.inner_text()
    assert numbing.is_visible()
    assert axe_violations(page) == []
    page.screenshot(path="/tmp/desk-calendar-numbing.png", full_page=True)


def test_phone_booking_shows_free_times_as_the_day_is_chosen(live_server, page, clinic):
    location, zone = clinic["location"], clinic["location"].zone
    day = (datetime.now(UTC).astimezone(zone) + timedelta(days=2)).date()
    signed_in(page, live_server, clinic["client"])

    page.goto(f"{live_server.url}/staff/book/?location={location.slug}")
    page.get_by_text("Choose a treatment and a date").wait_for()
    page.get_by_label("Date").fill(f"{day:%Y-%m-%d}")
    page.get_by_label("Date").dispatch_event("change")

    first = page.locator("#free-times button").first
    first.wait_for()
    assert first.inner_text().startswith("09:00")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Phone")
    page.get_by_label("Phone", exact=True).fill("+1 404 555 0123")
    assert axe_violations(page) == []
    first.click()

    page.get_by_text("Booked Nora Phone").wait_for()
    booked = Appointment.objects.get(patient__first_name="Nora")
    assert booked.start.astimezone(zone).hour == 9
