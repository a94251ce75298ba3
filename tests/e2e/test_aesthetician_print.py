"""The printed day sheet: a normal day of eight visits fits on one Letter page."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from booking.models import Appointment
from tests import factories
from tests.helpers import sign_in


def signed_in(page, live_server, user) -> None:
    client = Client()
    sign_in(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


@pytest.mark.django_db(transaction=True)
def test_a_day_of_eight_visits_prints_on_one_page(live_server, page, clinic):
    location = clinic["location"]
    eight_am = location.local(timezone.now()).replace(hour=8, minute=0, second=0, microsecond=0)
    for n in range(8):
        visit = Appointment(
            patient=factories.PatientFactory(user=None),
            treatment=clinic["treatment"],
            location=location,
            provider=clinic["provider"],
            room=factories.RoomFactory(location=location, name=f"Treatment room {n + 101}"),
        )
        visit.set_times(eight_am + timedelta(minutes=75 * n))  # back to back
        visit.save()
    signed_in(page, live_server, clinic["provider"].user)

    page.goto(live_server.url + "/staff/my-day/")
    page.emulate_media(media="print")
    pdf = page.pdf(format="Letter")

    assert not page.get_by_role("button", name="Print").is_visible()
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
