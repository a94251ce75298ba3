"""The front desk calendar: who may open it, what it shows, and that it stays fast."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from booking.models import Appointment, TreatmentPlan, WorkingHours
from desk import calendar
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

TUESDAY = date(2027, 3, 2)


def visit(clinic, start, provider=None, patient=None, **fields):
    appointment = Appointment(
        patient=patient
        or factories.PatientFactory(user=None, first_name="Ada", last_name="Lovelace"),
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=provider or clinic["provider"],
        room=fields.pop("room", clinic["room"]),
        **fields,
    )
    appointment.set_times(start)
    appointment.save()
    return appointment


@pytest.fixture
def desk_client(client, front_desk):
    sign_in(client, front_desk)
    return client


def calendar_url(clinic, day=TUESDAY, **params):
    query = "&".join(
        f"{k}={v}" for k, v in {"location": clinic["location"].slug, "date": day, **params}.items()
    )
    return f"{reverse('desk:calendar')}?{query}"


def test_anonymous_users_are_sent_to_sign_in(client, db):
    response = client.get(reverse("desk:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["patient", "aesthetician"])
def test_patients_and_aestheticians_are_refused(client, clinic, role):
    if role == "patient":
        user = factories.PatientFactory().user
    else:
        user = clinic["provider"].user
        user.groups.add(factories.Group.objects.get_or_create(name="Aesthetician")[0])
    sign_in(client, user)

    assert client.get(reverse("desk:home")).status_code == 403
    assert client.get(reverse("desk:patients")).status_code == 403


def test_day_view_shows_each_aesthetician_and_visit(desk_client, clinic):
    plan_patient = factories.PatientFactory(user=None, first_name="Grace", last_name="Hopper")
    plan = TreatmentPlan.objects.create(
        patient=plan_patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_date=TUESDAY,
    )
    visit(clinic, at(TUESDAY, 10))
    visit(
        clinic,
        at(TUESDAY, 13),
        patient=plan_patient,
        plan=plan,
        session_number=2,
        status="checked_in",
    )

    response = desk_client.get(calendar_url(clinic))

    assert response.status_code == 200
    html = response.content.decode()
    assert clinic["provider"].display_name in html
    assert "Ada Lovelace" in html and "Grace Hopper" in html
    assert "session 2 of 4" in html
    assert "status-checked_in" in html
    assert "10:00–11:30" in html  # shown on the location's wall clock, not UTC


def test_status_labels_follow_each_requests_language(desk_client, clinic):
    """Labels are looked up once per status and language: an English page after a Spanish one
    (same process) still reads English, and the Spanish one Spanish."""
    visit(clinic, at(TUESDAY, 10), status="confirmed")
    visit(clinic, at(TUESDAY, 13), status="confirmed", confirmed_via="sms")

    spanish = desk_client.get(calendar_url(clinic), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = desk_client.get(calendar_url(clinic), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<span class="cal-appt-status">Confirmada</span>' in spanish
    assert '<span class="cal-appt-status">Confirmada por SMS</span>' in spanish
    assert '<span class="cal-appt-status">Confirmed</span>' in english
    assert '<span class="cal-appt-status">Confirmed by SMS</span>' in english
    assert "Confirmada" not in english


def test_names_are_escaped_in_the_visit_blocks(desk_client, clinic):
    """The blocks are built as HTML strings (not by the template): every name is escaped."""
    patient = factories.PatientFactory(user=None, first_name="<b>Bo", last_name='"O\'Neil" & co')
    visit(clinic, at(TUESDAY, 10), patient=patient)

    for url in (calendar_url(clinic), calendar_url(clinic, by="room")):
        html = desk_client.get(url).content.decode()
        assert "<b>Bo" not in html
        assert (
            '<strong class="cal-appt-patient">&lt;b&gt;Bo &quot;O&#x27;Neil&quot; &amp; co'
            "</strong>" in html
        )


def test_block_words_and_columns_follow_each_requests_language(client, front_desk, clinic):
    """The blocks' words are looked up once per request and the columns are put into the page
    after rendering: a Spanish page then an English one (same process) each read in their
    own language, on the full page and the partial one, with every column in its place."""
    treatment = clinic["treatment"]
    treatment.numbing_minutes, treatment.cleanup_minutes = 30, 15
    treatment.save()
    clinic["room"].name = 'Room <1> & "2"'
    clinic["room"].save()
    visit(clinic, at(TUESDAY, 10))  # numbing 10:00-10:30, treatment, cleanup to its end

    with time_machine.travel(at(TUESDAY, 9, 30), tick=False):  # check-in is open
        sign_in(client, front_desk)  # a session made in real time would have expired
        pages = {
            (language, partial): client.get(
                calendar_url(clinic, by="room"),
                HTTP_ACCEPT_LANGUAGE=language,
                **({"HTTP_HX_REQUEST": "true"} if partial else {}),
            ).content.decode()
            for language in ("es", "en")
            for partial in (False, True)
        }

    for (language, partial), html in pages.items():
        assert "<!--columns-" not in html
        assert html.count('<div class="cal-col" role="group"') == 1
        assert (
            '<div class="cal-col" role="group" aria-label="Room &lt;1&gt; &amp; &quot;2&quot;" '
            f'data-provider="" data-date="{TUESDAY}">' in html
        )
        assert ('<div class="cal-now ' in html) and ('class="cal-body"' in html)
        assert html.index('class="cal-body"') < html.index('class="cal-col"')
        assert html.index('class="cal-col"') < html.index('class="cal-legend')
        assert (html.count("<html") == 0) == partial
        book = "Reservar" if language == "es" else "Book"
        room = "Room &lt;1&gt; &amp; &quot;2&quot;"
        assert f'<span class="visually-hidden">{book} 16:00, {room}</span></a>' in html
        assert '<span class="cal-cell is-past gr-' in html  # 9:00 and 9:15 have passed
        if language == "es":
            assert '<span class="cal-appt-numbing">Anestesia hasta las 10:30</span>' in html
            assert "Registrar llegada" in html and "Check in" not in html
        else:
            assert '<span class="cal-appt-numbing">Numbing to 10:30</span>' in html
            assert "Check in<span" in html and "Anestesia" not in html


def test_room_view_has_one_column_per_room(desk_client, clinic):
    factories.RoomFactory(location=clinic["location"], name="Laser suite")

    response = desk_client.get(calendar_url(clinic, by="room"))

    assert "Laser suite" in response.content.decode()
    assert [c.label for c in response.context["grid"].columns] == sorted(
        [clinic["room"].name, "Laser suite"]
    )


def test_week_view_shows_seven_days_of_one_aesthetician(desk_client, clinic):
    visit(clinic, at(TUESDAY + timedelta(days=2), 9))

    response = desk_client.get(calendar_url(clinic, view="week", provider=clinic["provider"].pk))

    columns = response.context["grid"].columns
    assert [c.day for c in columns] == [date(2027, 3, 1) + timedelta(days=n) for n in range(7)]
    assert len(columns[3].blocks) == 1


def test_bad_query_values_fall_back_to_today(desk_client, clinic):
    response = desk_client.get(reverse("desk:calendar") + "?date=notadate&location=nowhere&by=x")

    assert response.status_code == 200


def test_time_off_and_hours_are_shaded_and_free_cells_link_to_booking(desk_client, clinic):
    factories.TimeOffFactory(
        provider=clinic["provider"], start=at(TUESDAY, 12), end=at(TUESDAY, 13), reason="Lunch"
    )

    response = desk_client.get(calendar_url(clinic))

    column = response.context["grid"].columns[0]
    kinds = {(s.kind, s.rows) for s in column.shades}
    assert ("away", 4) in kinds
    clocks = [c.clock for c in column.cells]
    assert "09:00" in clocks and "12:00" not in clocks and "17:00" not in clocks
    assert f"time=09:00&amp;provider={clinic['provider'].pk}" in response.content.decode()


def test_now_line_is_drawn_on_today(client, front_desk, clinic):
    with time_machine.travel(datetime(2027, 3, 2, 10, 30, tzinfo=NEW_YORK), tick=False):
        sign_in(client, front_desk)  # a session made in real time would have expired
        response = client.get(calendar_url(clinic))

    grid = response.context["grid"]
    assert grid.now_row == (1 + (10 * 60 + 30 - grid.first_minute) // 15, 0)
    assert "cal-now" in response.content.decode()


def seed_day(clinic, people, per_provider: int):
    """``per_provider`` visits for each of ``people`` on Tuesday, 75 minutes apart in two
    alternating rooms (each visit holds its room 105 minutes), each for a patient of its own
    (one person is never at two visits at once)."""
    location, treatment = clinic["location"], clinic["treatment"]
    for provider in people:
        rooms = [factories.RoomFactory(location=location, treatments=[treatment]) for _ in "ab"]
        WorkingHours.objects.filter(provider=provider).update(start_time=time(7), end_time=time(21))
        for n in range(per_provider):
            start = at(TUESDAY, 7) + timedelta(minutes=75 * n)
            patient = factories.PatientFactory(user=None)
            visit(clinic, start, provider=provider, room=rooms[n % 2], patient=patient)


def more_aestheticians(clinic, count):
    return [
        factories.ProviderFactory(locations=[clinic["location"]], treatments=[clinic["treatment"]])
        for _ in range(count)
    ]


def count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_day_view_queries_do_not_grow_with_aestheticians_or_visits(
    desk_client, clinic, django_assert_num_queries
):
    seed_day(clinic, [clinic["provider"], *more_aestheticians(clinic, 1)], per_provider=2)
    url = calendar_url(clinic)
    desk_client.get(url)
    small = count_queries(desk_client, url)

    seed_day(clinic, more_aestheticians(clinic, 18), per_provider=11)
    assert Appointment.objects.count() >= 200

    with django_assert_num_queries(small):
        response = desk_client.get(url)
    assert len(response.context["grid"].columns) == 20


def test_grid_places_overlapping_visits_side_by_side():
    tz = NEW_YORK
    blocks = (
        calendar.Block(1, at(TUESDAY, 10), at(TUESDAY, 11)),
        calendar.Block(2, at(TUESDAY, 10, 30), at(TUESDAY, 11, 30)),
        calendar.Block(3, at(TUESDAY, 12), at(TUESDAY, 12, 15)),
    )
    column = calendar.ColumnInput("a", "A", TUESDAY, hours=((time(9), time(17)),), blocks=blocks)

    grid = calendar.build([column], tz, now=at(TUESDAY, 8))

    placed = {p.block.key: p for p in grid.columns[0].blocks}
    assert (placed[1].lane, placed[1].lanes) == (0, 2)
    assert (placed[2].lane, placed[2].lanes) == (1, 2)
    assert (placed[3].lane, placed[3].lanes) == (0, 1)
    assert placed[1].row == 1 + (10 * 60 - grid.first_minute) // 15
    assert placed[1].rows == 4


def test_grid_on_the_spring_forward_day_uses_wall_clock_rows():
    # 2027-03-14 02:00 EST the clocks jump to 03:00 EDT; a 01:30-03:30 visit lasts 1 hour.
    day = date(2027, 3, 14)
    block = calendar.Block(
        1, datetime(2027, 3, 14, 6, 30, tzinfo=UTC), datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    )
    column = calendar.ColumnInput("a", "A", day, blocks=(block,))

    grid = calendar.build([column], NEW_YORK, now=at(day, 8))

    placed = grid.columns[0].blocks[0]
    assert grid.first_minute == 60
    assert placed.row == 3 and placed.rows == 8  # 01:30 to 03:30 on the wall clock
