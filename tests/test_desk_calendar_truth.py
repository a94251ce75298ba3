"""The desk calendar tells the truth: numbing and cleanup drawn, shared numbing drawn as what
it is, past cells inert, opening at now, one-click check-in, and refusals that offer the
nearest free times (issue 18, item 3)."""

from datetime import date, datetime, time

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from booking import services
from booking.models import Appointment, AuditEntry
from desk import calendar
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

TUESDAY = date(2027, 3, 2)
MORNING = datetime(2027, 3, 2, 10, 20, tzinfo=NEW_YORK)  # Tuesday, 10:20 in the clinic
NINE_TO_FIVE = ((time(9), time(17)),)


def block(key, start, minutes, numbing=30, cleanup=15):
    """A visit as booking stores it: numbing, then treatment, ``end``, then cleanup."""
    end = start + (minutes + numbing) * ONE_MINUTE
    return calendar.Block(key, start, end, numbing, held_until=end + cleanup * ONE_MINUTE)


ONE_MINUTE = at(TUESDAY, 0, 1) - at(TUESDAY, 0)


def row_of(grid, hour, minute=0):
    return 1 + (hour * 60 + minute - grid.first_minute) // grid.step_minutes


# The pure grid -------------------------------------------------------------------------


def test_cleanup_and_numbing_are_part_of_the_block():
    column = calendar.ColumnInput(
        "p",
        "Anna",
        TUESDAY,
        hours=NINE_TO_FIVE,
        blocks=(block(1, at(TUESDAY, 10), 60),),
        provider_id=1,
    )

    grid = calendar.build([column], NEW_YORK, now=at(TUESDAY, 8))

    placed = grid.columns[0].blocks[0]
    # 10:00-10:30 numbing, 10:30-11:30 treatment, 11:30-11:45 cleanup: seven quarter hours.
    assert (placed.row, placed.rows) == (row_of(grid, 10), 7)
    assert (placed.numbing_rows, placed.cleanup_rows) == (2, 1)


def test_a_visit_numbing_while_the_aesthetician_treats_another_is_not_a_double_booking():
    # A holds Anna 10:30-11:45 (after numbing); B numbs 11:15-11:45 in another room and Anna
    # starts B at 11:45: allowed, and drawn in one lane with B's numbing marked as shared.
    first = block(1, at(TUESDAY, 10), 60)
    second = block(2, at(TUESDAY, 11, 15), 60)
    column = calendar.ColumnInput(
        "p", "Anna", TUESDAY, hours=NINE_TO_FIVE, blocks=(first, second), provider_id=1
    )

    placed = {
        p.block.key: p for p in calendar.build([column], NEW_YORK, now=MORNING).columns[0].blocks
    }

    assert (placed[1].lanes, placed[2].lanes) == (1, 1)
    assert placed[2].shares_numbing and not placed[1].shares_numbing


def test_visits_that_really_overlap_for_the_aesthetician_stay_side_by_side():
    first = block(1, at(TUESDAY, 10), 60)
    second = block(2, at(TUESDAY, 10, 45), 60)  # treatment from 11:15, Anna busy to 11:45
    column = calendar.ColumnInput(
        "p", "Anna", TUESDAY, hours=NINE_TO_FIVE, blocks=(first, second), provider_id=1
    )

    placed = calendar.build([column], NEW_YORK, now=MORNING).columns[0].blocks

    assert {(p.lane, p.lanes) for p in placed} == {(0, 2), (1, 2)}


def test_cells_before_now_are_past_and_the_grid_opens_at_now():
    column = calendar.ColumnInput("p", "Anna", TUESDAY, hours=NINE_TO_FIVE, provider_id=1)

    grid = calendar.build([column], NEW_YORK, now=MORNING, show_now_on=TUESDAY)

    past = {c.clock: c.past for c in grid.columns[0].cells}
    assert past["09:00"] and past["10:15"]
    assert not past["10:30"] and not past["16:45"]
    assert grid.scroll_row == row_of(grid, 10, 15)


def test_another_day_opens_at_its_first_working_hour_with_nothing_past():
    column = calendar.ColumnInput("p", "Anna", TUESDAY, hours=((time(11), time(17)),))

    grid = calendar.build([column], NEW_YORK, now=at(TUESDAY, 0) - 24 * 60 * ONE_MINUTE)

    assert grid.scroll_row == row_of(grid, 11)
    assert not any(c.past for c in grid.columns[0].cells)


def test_all_held_is_when_every_room_is_held():
    one = [(at(TUESDAY, 10), at(TUESDAY, 11)), (at(TUESDAY, 11), at(TUESDAY, 12))]
    two = [(at(TUESDAY, 10, 30), at(TUESDAY, 11, 15)), (at(TUESDAY, 11, 45), at(TUESDAY, 13))]

    assert calendar.all_held([one, two]) == (
        (at(TUESDAY, 10, 30), at(TUESDAY, 11, 15)),
        (at(TUESDAY, 11, 45), at(TUESDAY, 12)),
    )
    assert calendar.all_held([one, []]) == ()
    assert calendar.all_held([]) == ()


def test_cells_are_full_while_every_room_is_held():
    full = ((at(TUESDAY, 10), at(TUESDAY, 10, 45)),)
    column = calendar.ColumnInput("p", "Bea", TUESDAY, hours=NINE_TO_FIVE, provider_id=2, full=full)

    cells = {
        c.clock: c.full
        for c in calendar.build([column], NEW_YORK, now=at(TUESDAY, 8)).columns[0].cells
    }

    assert [clock for clock, is_full in cells.items() if is_full] == ["10:00", "10:15", "10:30"]


# Pages ---------------------------------------------------------------------------------


@pytest.fixture
def desk(client, front_desk):
    with time_machine.travel(MORNING, tick=False):
        sign_in(client, front_desk)
        yield client


def book(clinic, start, provider=None, **kwargs):
    return services.book_appointment(
        patient=kwargs.pop("patient", None) or factories.PatientFactory(),
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=at(TUESDAY, 7),
        provider=provider or clinic["provider"],
        staff=True,
        **kwargs,
    )


def calendar_page(desk, clinic, **params):
    query = {"location": clinic["location"].slug, "date": "2027-03-02", **params}
    return desk.get(reverse("desk:calendar"), query)


def test_the_page_labels_cleanup_and_offers_no_past_cells(desk, clinic):
    book(clinic, at(TUESDAY, 13))

    response = calendar_page(desk, clinic)

    html = response.content.decode()
    assert "Numbing to 13:30" in html and "Cleanup to 14:45" in html
    grid = response.context["grid"]
    # 13:00-14:45 is covered by the block, cleanup included: no free-looking cell at 14:30.
    assert f"cal-appt status-booked gr-{row_of(grid, 13)} gs-7 " in html
    assert "time=09:00" not in html  # before now: not a link
    assert 'class="cal-cell is-past' in html
    assert "time=10:30" in html


def test_another_aesthetician_is_not_offered_a_time_when_the_only_room_is_held(desk, clinic):
    bea = factories.ProviderFactory(
        display_name="Bea", locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    book(clinic, at(TUESDAY, 13))  # Room 12 held 13:00-14:45

    html = calendar_page(desk, clinic).content.decode()

    assert f"time=12:45&amp;provider={bea.pk}" in html
    assert f"time=13:00&amp;provider={bea.pk}" not in html
    assert f"time=14:45&amp;provider={bea.pk}" in html
    assert "13:30: every room is in use" in html


def test_a_visit_is_checked_in_with_one_click_and_its_block_redrawn(desk, clinic):
    appointment = book(clinic, at(TUESDAY, 11))
    html = calendar_page(desk, clinic).content.decode()
    assert f'hx-post="/staff/appointments/{appointment.pk}/status/"' in html

    response = desk.post(
        reverse("desk:appointment_status", args=[appointment.pk]),
        {"status": "checked_in", "view": "day", "by": "provider"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.startswith('<div class="cal-appt status-checked_in')
    assert "Checked in" in fragment and "cal-checkin" not in fragment
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN
    assert AuditEntry.objects.filter(appointment=appointment, action="checked_in").exists()


def test_check_in_is_not_offered_hours_before_the_visit(desk, clinic):
    book(clinic, at(TUESDAY, 15))

    assert "cal-checkin" not in calendar_page(desk, clinic).content.decode()


def test_a_refused_check_in_answers_in_the_block(desk, clinic):
    appointment = book(clinic, at(TUESDAY, 15))

    response = desk.post(
        reverse("desk:appointment_status", args=[appointment.pk]),
        {"status": "checked_in", "view": "day", "by": "provider"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_the_week_view_marks_short_visits_and_titles_every_visit(desk, clinic):
    short = factories.TreatmentFactory(
        name="Brow tint", duration_minutes=15, numbing_minutes=0, cleanup_minutes=0
    )
    clinic["provider"].treatments.add(short)
    clinic["room"].treatments.add(short)
    services.book_appointment(
        patient=factories.PatientFactory(first_name="Bo", last_name="Short"),
        treatment=short,
        location=clinic["location"],
        start=at(TUESDAY, 16),
        now=at(TUESDAY, 7),
        provider=clinic["provider"],
        staff=True,
    )

    html = calendar_page(desk, clinic, view="week", provider=clinic["provider"].pk).content
    html = html.decode()

    assert "is-week" in html and "is-short" in html
    assert 'title="16:00–16:15 Bo Short · Brow tint · Booked"' in html
    # One line: the start and the patient, not the room that would push the name out.
    assert (
        '<span class="cal-appt-time">16:00</span> <strong class="cal-appt-patient">Bo Short' in html
    )


def test_week_view_queries_do_not_grow_with_visits(desk, clinic, django_assert_num_queries):
    from tests.test_staff_calendar import count_queries

    book(clinic, at(TUESDAY, 11))
    url = (
        f"{reverse('desk:calendar')}?location={clinic['location'].slug}&date=2027-03-02"
        f"&view=week&provider={clinic['provider'].pk}"
    )
    desk.get(url)
    few = count_queries(desk, url)
    for day in range(3, 6):
        book(clinic, at(date(2027, 3, day), 9))
        book(clinic, at(date(2027, 3, day), 13))

    with django_assert_num_queries(few):
        desk.get(url)


# Refusals that offer the nearest free times ----------------------------------------------


def test_nearest_free_times_come_from_the_chosen_aesthetician_then_anyone(clinic):
    bea = factories.ProviderFactory(
        display_name="Bea", locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    book(clinic, at(TUESDAY, 12))

    times = services.nearest_free_times(
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(TUESDAY, 12, 15),
        now=MORNING,
        provider_id=clinic["provider"].pk,
    )

    mine = [t for t in times if t.provider_id == clinic["provider"].pk]
    theirs = [t for t in times if t.provider_id == bea.pk]
    # Anna is busy 12:30-13:45; nothing starts before now (10:20). Hers first, in order.
    assert times[: len(mine)] == mine
    assert [t.start for t in mine] == [
        at(TUESDAY, 10, 30),
        at(TUESDAY, 10, 45),
        at(TUESDAY, 13, 15),  # numbing while she finishes the 12:00 visit
        at(TUESDAY, 13, 30),
        at(TUESDAY, 13, 45),
    ]
    assert theirs and theirs[0].provider_name == "Bea"
    assert all(t.start >= MORNING for t in times)


def test_a_refused_move_keeps_what_was_typed_and_offers_one_click_times(desk, clinic):
    book(clinic, at(TUESDAY, 12))
    appointment = book(clinic, at(TUESDAY, 15))

    response = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": "2027-03-02", "time": "12:30", "reason": "Patient asked"},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "already taken" in html
    assert 'value="12:30"' in html and 'value="Patient asked"' in html
    suggestions = response.context["suggestions"]
    assert suggestions
    first = suggestions[0]
    local = first.start.astimezone(NEW_YORK)
    assert f'<input type="hidden" name="time" value="{local:%H:%M}">' in html

    moved = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": f"{local:%Y-%m-%d}", "time": f"{local:%H:%M}", "provider": first.provider_id},
    )
    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == first.start


def test_a_refused_drag_answers_with_suggestions(desk, clinic):
    book(clinic, at(TUESDAY, 12))
    appointment = book(clinic, at(TUESDAY, 15))

    response = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": "2027-03-02", "time": "12:30"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 409
    suggestions = response.json()["suggestions"]
    assert suggestions and {"date", "time", "provider", "label"} <= set(suggestions[0])


def test_a_move_next_to_its_own_time_is_offered(desk, clinic):
    # The visit being moved does not block its own neighbourhood.
    book(clinic, at(TUESDAY, 13))
    appointment = book(clinic, at(TUESDAY, 11))

    response = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": "2027-03-02", "time": "13:00"},
        HTTP_ACCEPT="application/json",
    )

    assert "11:15" in {s["time"] for s in response.json()["suggestions"]}


# Phone booking: free times as you choose -------------------------------------------------


def test_phone_booking_lists_free_times_for_the_chosen_day(desk, clinic):
    book(clinic, at(TUESDAY, 12))
    page = desk.get(reverse("desk:book"), {"location": clinic["location"].slug}).content.decode()
    assert 'hx-get="/staff/book/times/"' in page

    response = desk.get(
        reverse("desk:book_times"),
        {
            "location": clinic["location"].slug,
            "treatment": clinic["treatment"].pk,
            "provider": clinic["provider"].pk,
            "date": "2027-03-02",
        },
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    # One room, held 12:00-13:45 by the visit: nothing fits this morning after now (10:20).
    assert ">13:45<" in html and ">12:00<" not in html and ">10:30<" not in html
    assert f'value="{at(TUESDAY, 13, 45).isoformat()}|{clinic["provider"].pk}"' in html


def test_phone_booking_free_times_without_a_day_ask_for_one(desk, clinic):
    response = desk.get(
        reverse("desk:book_times"),
        {"location": clinic["location"].slug, "treatment": clinic["treatment"].pk},
    )

    assert response.status_code == 200
    assert "Choose a treatment and a date" in response.content.decode()


def test_phone_booking_free_times_stay_a_few_queries(desk, clinic, django_assert_max_num_queries):
    for _ in range(5):
        factories.ProviderFactory(locations=[clinic["location"]], treatments=[clinic["treatment"]])
    query = {
        "location": clinic["location"].slug,
        "treatment": clinic["treatment"].pk,
        "date": "2027-03-02",
    }
    with django_assert_max_num_queries(12):
        assert desk.get(reverse("desk:book_times"), query).status_code == 200


# A rule for any day's visits ------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),  # start, in quarter hours after 09:00
            st.integers(1, 8),  # treatment, in quarter hours
            st.sampled_from([0, 15, 30]),  # numbing minutes
            st.sampled_from([0, 15]),  # cleanup minutes
        ),
        max_size=8,
    )
)
def test_visits_in_one_lane_never_hold_the_aesthetician_at_once(visits):
    blocks = tuple(
        block(n, at(TUESDAY, 9) + 15 * q * ONE_MINUTE, 15 * length, numbing, cleanup)
        for n, (q, length, numbing, cleanup) in enumerate(visits)
    )
    column = calendar.ColumnInput(
        "p", "Anna", TUESDAY, hours=NINE_TO_FIVE, blocks=blocks, provider_id=1
    )

    placed = calendar.build([column], NEW_YORK, now=MORNING).columns[0].blocks

    assert sorted(p.block.key for p in placed) == list(range(len(visits)))

    def busy(p):  # the aesthetician's rows: after numbing, to the end of cleanup
        return p.row + p.numbing_rows, p.row + p.rows

    for p in placed:
        assert p.numbing_rows + p.cleanup_rows <= p.rows
        for q in placed:
            if p is not q and p.lane == q.lane and p.lanes == q.lanes and p.lanes < 6:
                (a, b), (c, d) = busy(p), busy(q)
                assert b <= c or d <= a, (p, q)
