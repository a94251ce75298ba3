"""The front desk in a real browser: a phone booking, a drag to another aesthetician, and a
move onto a taken time refused with a message."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from booking.models import Appointment, Patient
from tests import factories
from tests.e2e.conftest import axe_violations
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def next_weekday(days_ahead: int = 1):
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def desk(live_server, page):
    location = factories.LocationFactory()
    treatment = factories.ProtocolFactory().treatment
    for name in ("Room 1", "Room 2"):
        factories.RoomFactory(location=location, name=name, treatments=[treatment])
    anna = factories.ProviderFactory(
        display_name="Anna Avery", locations=[location], treatments=[treatment]
    )
    bea = factories.ProviderFactory(
        display_name="Bea Brooks", locations=[location], treatments=[treatment]
    )
    user = factories.UserFactory(username="frontdesk", groups=["Front desk"])
    client = Client()
    sign_in(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return {"location": location, "treatment": treatment, "anna": anna, "bea": bea}


def calendar_url(live_server, desk, day):
    return f"{live_server.url}/staff/calendar/?location={desk['location'].slug}&date={day}"


def drag(page, source, target):
    """HTML5 drag and drop with the real mouse (Chromium turns it into drag events)."""
    source.hover()
    page.mouse.down()
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()


def test_desk_books_a_phone_patient_and_drags_the_visit_to_another_aesthetician(
    live_server, page, desk
):
    day = next_weekday()
    page.goto(calendar_url(live_server, desk, day))
    assert axe_violations(page) == []
    page.screenshot(path="/tmp/desk-calendar-empty.png", full_page=True)

    anna_column = page.get_by_role("group", name="Anna Avery")
    anna_column.get_by_role("link", name="Book 10:00, Anna Avery").click()
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Phone")
    page.get_by_label("Phone", exact=True).fill("+1 404 555 0123")
    assert axe_violations(page) == []
    page.screenshot(path="/tmp/desk-book.png", full_page=True)
    page.get_by_role("button", name="Book", exact=True).click()

    page.get_by_text("Booked Nora Phone").wait_for()
    appointment = Appointment.objects.get(patient__first_name="Nora")
    assert appointment.provider == desk["anna"]
    assert timezone.localtime(appointment.start, desk["location"].zone).hour == 10
    visit = page.locator(f".cal-appt[data-id='{appointment.pk}']")
    assert "Nora Phone" in visit.inner_text()
    page.screenshot(path="/tmp/desk-calendar-booked.png", full_page=True)

    bea_cell = page.get_by_role("group", name="Bea Brooks").locator(".cal-cell[data-time='11:00']")
    drag(page, visit, bea_cell)

    page.get_by_text("Moved Nora Phone").wait_for()
    appointment.refresh_from_db()
    assert appointment.provider == desk["bea"]
    assert timezone.localtime(appointment.start, desk["location"].zone).hour == 11
    page.locator(f".cal-appt[data-id='{appointment.pk}']").wait_for()
    assert axe_violations(page) == []


def test_a_move_onto_a_taken_time_is_refused_with_a_message(live_server, page, desk):
    day = next_weekday()
    zone = desk["location"].zone
    taken = Appointment(
        patient=factories.PatientFactory(user=None, first_name="Tess", last_name="Taken"),
        treatment=desk["treatment"],
        location=desk["location"],
        provider=desk["bea"],
        room=desk["location"].rooms.first(),
    )
    taken.set_times(datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=10))
    taken.save()
    moving = Appointment(
        patient=Patient.objects.create(first_name="Milo", last_name="Mover"),
        treatment=desk["treatment"],
        location=desk["location"],
        provider=desk["anna"],
        room=desk["location"].rooms.last(),
    )
    moving.set_times(datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=14))
    moving.save()

    page.goto(calendar_url(live_server, desk, day))
    visit = page.locator(f".cal-appt[data-id='{moving.pk}']")
    bea_taken = page.get_by_role("group", name="Bea Brooks").locator(".cal-cell[data-time='10:30']")
    drag(page, visit, bea_taken)

    status = page.locator("#cal-status")
    status.get_by_text("already taken").wait_for()
    moving.refresh_from_db()
    assert moving.provider == desk["anna"]
    page.screenshot(path="/tmp/desk-refused.png", full_page=True)

    # The keyboard way: the visit's own page has a move form.
    page.goto(f"{live_server.url}/staff/appointments/{moving.pk}/")
    page.get_by_label("Time").fill("10:30")
    page.get_by_label("Aesthetician").select_option(label="Bea Brooks")
    page.get_by_role("button", name="Move visit").click()
    page.get_by_text("Not moved").wait_for()
    assert "already taken" in page.locator(".alert-danger").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path="/tmp/desk-appointment.png", full_page=True)
