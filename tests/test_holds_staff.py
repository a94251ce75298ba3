"""Holds where staff need them: a read-only list in the admin and "Held online until 10:42"
blocks on the desk calendar (a patient is booking that time online right now)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.models import Hold
from tests import factories
from tests.helpers import at, sign_in
from tests.test_staff_calendar import calendar_url, more_aestheticians, seed_day

TUESDAY = date(2027, 3, 2)


def _hold(clinic, start, now, provider=None):
    return services.hold_time(
        draft=services.new_draft(data={}, now=now),
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=provider,
        start=start,
        now=now,
    )


@pytest.fixture
def desk_client(client, front_desk, frozen):
    sign_in(client, front_desk)
    return client


def test_the_desk_calendar_draws_a_held_time_with_when_it_expires(desk_client, clinic, now):
    _hold(clinic, at(TUESDAY, 10), now)  # expires 08:10 Atlanta time, Monday

    html = desk_client.get(calendar_url(clinic)).content.decode()

    assert html.count('class="cal-hold ') == 1
    assert "Held online until 08:10" in html
    # Drawn over all it keeps, numbing to cleanup: 10:00-11:45 (15-minute rows from 08:00).
    assert 'class="cal-hold gr-9 gs-7 l0of1"' in html


def test_the_room_view_and_the_week_view_show_it_too(desk_client, clinic, now):
    _hold(clinic, at(TUESDAY, 10), now)

    by_room = desk_client.get(calendar_url(clinic, by="room")).content.decode()
    week = desk_client.get(
        calendar_url(clinic, view="week", provider=clinic["provider"].pk)
    ).content.decode()

    assert "Held online until 08:10" in by_room
    assert 'class="cal-hold gr-9 gs-7 ' in by_room  # the room from 10:00 to 11:45
    assert "Held online until 08:10" in week


def test_an_expired_hold_is_not_drawn(client, front_desk, clinic, now):
    import time_machine

    _hold(clinic, at(TUESDAY, 10), now)
    with time_machine.travel(now + timedelta(minutes=10), tick=False):
        sign_in(client, front_desk)
        html = client.get(calendar_url(clinic)).content.decode()

    assert 'class="cal-hold ' not in html
    assert "Held online until" not in html  # bookable again


def test_a_held_time_names_no_patient_and_links_nowhere(desk_client, clinic, now):
    _hold(clinic, at(TUESDAY, 10), now)

    html = desk_client.get(calendar_url(clinic)).content.decode()
    block = html[html.index('class="cal-hold ') :]
    block = block[: block.index("</div>")]

    assert "<a " not in block
    assert "draggable" not in block


def test_calendar_queries_do_not_grow_with_holds(
    desk_client, clinic, now, django_assert_num_queries
):
    from django.db import connection

    seed_day(clinic, [clinic["provider"]], per_provider=1)
    _hold(clinic, at(TUESDAY, 16), now)
    url = calendar_url(clinic)
    desk_client.get(url)
    with CaptureQueriesContext(connection) as small:
        desk_client.get(url)

    others = more_aestheticians(clinic, 6)
    for n, provider in enumerate(others):
        factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
        _hold(clinic, at(TUESDAY, 12) + timedelta(minutes=15 * n), now, provider=provider)
    assert Hold.objects.count() == 7

    with django_assert_num_queries(len(small.captured_queries)):
        html = desk_client.get(url).content.decode()
    assert html.count('class="cal-hold ') == 7


def test_the_admin_lists_holds_read_only(client, clinic, now):
    owner = User.objects.create_superuser("boss", "boss@example.com", "pw-long-enough-1")
    sign_in(client, owner)
    hold = _hold(clinic, at(TUESDAY, 10), now)

    listing = client.get(reverse("admin:booking_hold_changelist"))
    add = client.get(reverse("admin:booking_hold_add"))
    change = client.post(
        reverse("admin:booking_hold_change", args=[hold.pk]), {"expires_at_0": "2030-01-01"}
    )

    assert listing.status_code == 200
    page = listing.content.decode()
    assert clinic["location"].name in page
    assert str(clinic["provider"]) in page
    assert "2027-03-02 10:00 EST" in page  # the location's wall clock
    assert "08:10:00 EST" in page
    assert hold.draft_id not in page  # the draft's token continues the booking: never shown
    assert add.status_code == 403
    assert change.status_code == 403
    hold.refresh_from_db()
    assert hold.expires_at == now + timedelta(minutes=10)
