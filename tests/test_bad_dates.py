"""Dates at the ends of what Python can hold are refused with a message, never a 500; and
"today" is the clinic's own date, not UTC's, in the evening in New York."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking import schedule, services
from booking.models import TreatmentPlan, WaitlistEntry, WorkingHours
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")

EXTREMES = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+00:00"]
EXTREME_DAYS = ["9999-12-31", "0001-01-01"]
EVENING = datetime(2027, 3, 1, 21, 30, tzinfo=NEW_YORK)  # already Mar 2 in UTC


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def desk_client(client, front_desk, frozen):
    sign_in(client, front_desk)
    return client


def times_url(clinic):
    url = reverse("book_times", args=[clinic["treatment"].slug, clinic["location"].slug])
    return url + "?with=any"


# --- patients ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start", EXTREMES)
def test_choosing_an_extreme_time_is_a_message_and_the_review_does_not_fail(
    signed_in, clinic, start
):
    response = signed_in.post(times_url(clinic), {"start": start}, follow=True)

    assert response.status_code == 200
    assert "Please pick one of the times shown" in response.content.decode()
    review = signed_in.get(reverse("book_review"))
    assert review.status_code < 500


@pytest.mark.parametrize("start", EXTREMES)
def test_the_review_refuses_an_extreme_time_picked_there(signed_in, clinic, start):
    signed_in.post(times_url(clinic), {"start": at(date(2027, 3, 2), 10).isoformat()})

    response = signed_in.post(reverse("book_review"), {"start": start})

    assert response.status_code < 500
    assert signed_in.get(reverse("book_review")).status_code < 500


@pytest.mark.parametrize("start", EXTREMES)
def test_rescheduling_to_an_extreme_time_is_a_400(signed_in, clinic, patient, frozen, start):
    visit = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(date(2027, 3, 4), 10),
        now=frozen,
    )

    response = signed_in.post(reverse("visit_reschedule", args=[visit.pk]), {"start": start})

    assert response.status_code == 400
    assert "Please pick one of the times shown" in response.content.decode()
    visit.refresh_from_db()
    assert visit.start == at(date(2027, 3, 4), 10)


# --- staff ------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["day", "week"])
@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_the_calendar_falls_back_to_today_with_a_warning(desk_client, clinic, day, view):
    response = desk_client.get(
        reverse("desk:calendar"),
        {"date": day, "view": view, "provider": clinic["provider"].pk},
    )

    assert response.status_code == 200
    assert response.context["day"] == date(2027, 3, 1)
    assert "Give a date between 1900 and 2999" in response.content.decode()


def test_the_calendar_still_shows_the_last_day_in_range(desk_client, clinic):
    response = desk_client.get(reverse("desk:calendar"), {"date": "2999-12-31"})

    assert response.status_code == 200
    assert response.context["day"] == date(2999, 12, 31)


@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_my_day_explains_an_extreme_date_and_shows_today(client, clinic, frozen, day):
    sign_in(client, clinic["provider"].user)

    response = client.get(reverse("my_day"), {"date": day})

    assert response.status_code == 200
    assert response.context["day"] == date(2027, 3, 1)
    assert "That is not a date we can show" in response.content.decode()


@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_the_front_desk_opening_an_aestheticians_extreme_day(desk_client, clinic, day):
    response = desk_client.get(reverse("my_day"), {"date": day, "provider": clinic["provider"].pk})

    assert response.status_code == 200
    assert response.context["day"] == date(2027, 3, 1)


@pytest.mark.parametrize("field", ["earliest_date", "latest_date"])
def test_the_waitlist_refuses_an_extreme_date(desk_client, clinic, patient, field):
    data = {
        "patient": patient.pk,
        "treatment": clinic["treatment"].pk,
        "location": clinic["location"].pk,
        "earliest_date": "2027-03-02",
        "latest_date": "2027-03-20",
        field: "9999-12-31",
    }

    response = desk_client.post(reverse("desk:waitlist"), data)

    assert response.status_code == 200
    assert "Give a date between 1900 and 2999" in response.content.decode()
    assert not patient.waitlist_entries.exists()


def test_offering_a_waitlist_entry_an_extreme_time_is_a_400(desk_client, clinic, patient):
    entry = WaitlistEntry.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        earliest_date=date(2027, 3, 2),
        latest_date=date(2027, 3, 20),
    )

    response = desk_client.post(
        reverse("desk:waitlist_update", args=[entry.pk]),
        {"action": "offer", "start": EXTREMES[0]},
    )

    assert response.status_code == 400


@pytest.mark.parametrize("name", ["desk:book", "desk:plan_new"])
def test_phone_booking_and_plan_forms_refuse_an_extreme_date(desk_client, clinic, patient, name):
    url = reverse(name) if name == "desk:book" else reverse(name, args=[patient.pk])
    response = desk_client.post(
        url,
        {
            "patient": patient.pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].slug,
            "sessions": 3,
            "date": "9999-12-31",
            "time": "23:00",
            "action": "book",
        },
    )

    assert response.status_code < 500
    assert "Give a date between 1900 and 2999" in response.content.decode()


@pytest.mark.parametrize("which", ["first", "last"])
def test_the_report_refuses_an_extreme_period(desk_client, clinic, which):
    period = {"first": "2027-02-01", "last": "2027-03-01", which: "9999-12-31"}

    for name in ("staff_reports", "staff_reports_csv"):
        response = desk_client.get(reverse(name), period)
        assert response.status_code == 400
        assert "Give a date between 1900 and 2999" in response.content.decode()


# --- the clinic's own "today" -----------------------------------------------------------------


@pytest.fixture
def window_closing_march_1(clinic, patient):
    """A course whose session 2 must happen by Mar 1, 2027 (session 1 was on Jan 18)."""
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 1, 18),
    )
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(date(2027, 1, 18), 10),
        now=at(date(2027, 1, 1), 8),
        plan=plan,
        session_number=1,
        staff=True,
    )
    session = schedule.next_session(schedule.plans_with_visits().get(pk=plan.pk), initial_only=True)
    assert (session.number, session.latest) == (2, date(2027, 3, 1))
    return plan


def test_the_overdue_list_uses_the_locations_date_in_the_evening(
    client, front_desk, window_closing_march_1
):
    with time_machine.travel(EVENING, tick=False):
        sign_in(client, front_desk)
        response = client.get(reverse("desk:plans_overdue"))

    [(plan, session, days_left)] = response.context["due"]
    assert plan == window_closing_march_1
    assert days_left == 0  # it closes today, Mar 1 in New York; not "closed 1 day ago"
    assert "closes in 0 days" in response.content.decode()


@pytest.mark.parametrize("where", [None, "buckhead"])
def test_the_report_counts_overdue_plans_by_the_locations_date(
    client, front_desk, window_closing_march_1, where
):
    period = {"first": "2027-02-01", "last": "2027-03-05"}
    if where:
        period["location"] = where
    with time_machine.travel(EVENING, tick=False):
        sign_in(client, front_desk)
        response = client.get(reverse("staff_reports"), period)
        default = client.get(reverse("staff_reports"))

    assert response.status_code == 200
    assert response.context["report"].plans.overdue == 0  # Mar 1 is not over in New York
    assert default.context["form"].cleaned_data["last"] == date(2027, 3, 1)


def test_my_day_is_today_where_the_aesthetician_works_today(client, clinic, treatment):
    atlanta = clinic["location"]
    venice = factories.LocationFactory(name="Venice", time_zone="America/Los_Angeles")
    provider = factories.ProviderFactory(
        locations=[atlanta, venice], treatments=[treatment], weekdays=[]
    )
    WorkingHours.objects.create(
        provider=provider, location=atlanta, weekday=0, start_time=time(9), end_time=time(17)
    )
    WorkingHours.objects.create(
        provider=provider, location=venice, weekday=1, start_time=time(9), end_time=time(17)
    )
    # Tuesday 23:30 in Venice Beach is already Wednesday in Atlanta.
    late_tuesday = datetime(2027, 3, 2, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))

    with time_machine.travel(late_tuesday, tick=False):
        sign_in(client, provider.user)
        response = client.get(reverse("my_day"))

    assert response.context["today"] == date(2027, 3, 2)


@pytest.mark.parametrize("start", EXTREMES)
def test_phone_booking_refuses_an_extreme_suggested_slot(desk_client, clinic, patient, start):
    response = desk_client.post(
        reverse("desk:book"),
        {
            "patient": patient.pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].slug,
            "date": "2027-03-02",
            "time": "10:00",
            "slot": f"{start}|{clinic['provider'].pk}",
        },
    )

    assert response.status_code == 200
    assert "That suggested time cannot be booked" in response.content.decode()
    assert not patient.appointments.exists()
