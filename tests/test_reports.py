"""The owner's report at /staff/reports/: figures over a period, charts, CSV, front desk only.

The week of Mon 2027-03-01 to Sun 2027-03-07 in New York. The aesthetician works weekdays
9-17 (2,400 minutes that week); a microneedling visit holds her 75 minutes (60 + 15 cleanup)
and the room 105 (30 numbing + 60 + 15).
"""

import csv
import io
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from booking.models import Appointment, TreatmentPlan
from desk import reports
from notifications.models import Notification
from tests import factories
from tests.helpers import NEW_YORK, sign_in

FIRST, LAST = date(2027, 3, 1), date(2027, 3, 7)
TODAY = date(2027, 3, 10)


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=NEW_YORK)


def visit(clinic, patient, start, status="booked", **fields) -> Appointment:
    with time_machine.travel(fields.pop("created", start), tick=False):
        appointment = Appointment(
            patient=patient,
            treatment=clinic["treatment"],
            location=clinic["location"],
            provider=clinic["provider"],
            room=clinic["room"],
            status=status,
            **fields,
        )
        appointment.set_times(start)
        appointment.save()
    return appointment


def plan(
    clinic, patient, *, created, status="active", first_date=None, sessions=3
) -> TreatmentPlan:
    with time_machine.travel(created, tick=False):
        return TreatmentPlan.objects.create(
            patient=patient,
            treatment=clinic["treatment"],
            location=clinic["location"],
            sessions=sessions,
            first_date=first_date or created.date(),
            status=status,
        )


def recall(patient, course, sent) -> Notification:
    return Notification.objects.create(
        key=f"recall-{patient.pk}-{sent:%Y%m%d}",
        kind=Notification.Kind.MAINTENANCE_RECALL,
        channel=Notification.Channel.EMAIL,
        patient=patient,
        plan=course,
        due_at=sent,
        sent_at=sent,
        status=Notification.Status.SENT,
    )


@pytest.fixture
def week(clinic):
    """A week of visits, plans and recalls, with rows just outside it that must not count."""
    ann, bea, cy = (factories.PatientFactory() for _ in range(3))
    done = plan(clinic, ann, created=at(1, 4, 9), status="completed")
    visit(clinic, ann, at(3, 2, 10), "completed", plan=done, session_number=3)
    visit(clinic, bea, at(3, 2, 13), "no_show")
    visit(clinic, cy, at(3, 3, 10), "booked")
    visit(clinic, bea, at(3, 3, 13), "cancelled", late_cancellation=True)
    visit(clinic, cy, at(3, 4, 10), "cancelled")
    visit(clinic, cy, at(3, 8, 10), "completed")  # the Monday after

    plan(clinic, bea, created=at(3, 2, 9), first_date=date(2027, 4, 1))  # started, on time
    late = plan(clinic, cy, created=at(1, 4, 9), first_date=date(2027, 1, 4))
    visit(clinic, cy, at(1, 4, 10), "completed", plan=late, session_number=1)  # 2nd closed Feb 15

    recall(ann, done, at(3, 2, 9))
    visit(clinic, ann, at(4, 5, 10), kind="maintenance", created=at(3, 3, 12))  # answered it
    recall(bea, None, at(3, 4, 9))  # not answered
    recall(cy, late, at(2, 20, 9))  # before the period
    return clinic


def test_it_counts_bookings_and_utilisation_per_aesthetician_and_room(week):
    report = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY)

    [aesthetician] = report.aestheticians
    assert (aesthetician.bookings, aesthetician.completed, aesthetician.no_shows) == (3, 1, 1)
    assert aesthetician.late_cancellations == 1
    assert (aesthetician.booked_minutes, aesthetician.available_minutes) == (3 * 75, 2400)
    assert aesthetician.utilisation == pytest.approx(225 / 2400)
    [room] = report.rooms
    assert (room.bookings, room.booked_minutes, room.available_minutes) == (3, 3 * 105, 2400)


def test_it_gives_no_show_and_late_cancel_rates(week):
    rates = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY).rates

    assert (rates.visits, rates.no_shows, rates.attended_or_not) == (5, 1, 2)
    assert rates.no_show_rate == pytest.approx(0.5)
    assert rates.late_cancel_rate == pytest.approx(0.2)


def test_it_counts_plans_started_completed_and_overdue(week):
    plans = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY).plans

    assert (plans.started, plans.completed, plans.overdue) == (1, 1, 1)


def test_it_counts_maintenance_recalls_that_turned_into_bookings(week):
    recalls = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY).recalls

    assert (recalls.sent, recalls.booked) == (2, 1)
    assert recalls.rate == pytest.approx(0.5)


def test_another_location_shows_none_of_it(week):
    elsewhere = factories.LocationFactory(name="Midtown")

    report = reports.owner_report(first=FIRST, last=LAST, location=elsewhere, today=TODAY)

    assert report.aestheticians == [] and report.rooms == []
    assert report.rates.visits == 0 and report.recalls.sent == 0


def test_it_takes_the_same_number_of_queries_however_big_the_clinic(
    week, django_assert_num_queries
):
    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY)
        return len(captured.captured_queries)

    small = queries()
    for hour in (9, 11, 14):
        for day in (1, 5):
            visit(week, factories.PatientFactory(), at(3, day, hour), "completed")
    second = factories.ProviderFactory(locations=[week["location"]], treatments=[week["treatment"]])
    factories.RoomFactory(location=week["location"], treatments=[week["treatment"]])
    assert second.pk

    for n in range(3):  # more courses, past visits left booked, patients who came back
        patient = factories.PatientFactory()
        course = plan(week, patient, created=at(3, 2, 8), sessions=4)
        for number in range(1, n + 2):
            visit(
                week,
                patient,
                at(4, 1 + number, 10),
                "completed",
                plan=course,
                session_number=number,
            )
        visit(week, patient, at(3, 5, 9 + 3 * n), "booked")
        visit(week, patient, at(3, 1, 10 + n), "completed")

    with django_assert_num_queries(small):
        report = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY)
    assert small == 19  # 16, and 3 for the money (payments.report)
    assert report.rates.unresolved == 4 and report.courses.started == 4


def test_past_visits_left_booked_are_counted_apart_not_dropped(week):
    report = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY)

    assert (report.rates.attended_or_not, report.rates.unresolved) == (2, 1)
    [left_booked] = report.unresolved
    assert (left_booked.local_start, left_booked.status) == (at(3, 3, 10), "booked")


def test_a_visit_booked_for_today_is_not_yet_unresolved(week):
    report = reports.owner_report(first=FIRST, last=LAST, location=None, today=date(2027, 3, 3))

    assert report.rates.unresolved == 0 and report.unresolved == []


def test_the_rebooking_rate_counts_patients_whose_next_visit_was_booked_within_8_weeks(week):
    dee, eve, fay = (factories.PatientFactory() for _ in range(3))
    visit(week, dee, at(3, 4, 10), "completed")  # never came back
    visit(week, eve, at(3, 5, 10), "completed")
    visit(week, eve, at(6, 1, 10), created=at(5, 10, 9))  # booked 9+ weeks later
    visit(week, fay, at(3, 5, 13), "completed")
    visit(week, fay, at(3, 26, 13), "cancelled", created=at(3, 6, 9))

    rebooking = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY).rebooking

    # Ann's maintenance visit was booked the day after her completed session.
    assert (rebooking.weeks, rebooking.patients, rebooking.rebooked) == (8, 4, 1)
    assert rebooking.rate == pytest.approx(0.25)


@pytest.fixture
def courses(week):
    """Started in the week besides Bea's (no session done yet): a 3-session course done in
    full and a 4-session course that stopped after session 2."""
    done, stopped = factories.PatientFactory(), factories.PatientFactory()
    full = plan(week, done, created=at(3, 1, 9), status="completed")
    for number in (1, 2, 3):
        visit(week, done, at(4, number, 10), "completed", plan=full, session_number=number)
    longer = plan(week, stopped, created=at(3, 5, 9), sessions=4)
    for number in (1, 2):
        visit(
            week, stopped, at(4, 10 + number, 10), "completed", plan=longer, session_number=number
        )
    visit(week, stopped, at(5, 1, 10), "cancelled", plan=longer, session_number=3)
    return week


def test_it_gives_course_completion_and_drop_off_per_session(courses):
    result = reports.owner_report(first=FIRST, last=LAST, location=None, today=TODAY).courses

    assert (result.started, result.completed) == (3, 1)
    assert [(s.number, s.courses, s.reached) for s in result.sessions] == [
        (1, 3, 2),
        (2, 3, 2),
        (3, 3, 1),
        (4, 1, 0),
    ]


@pytest.fixture
def desk_client(client, front_desk):
    """Signed in as the front desk on the morning of TODAY."""
    with time_machine.travel(at(3, 10, 9), tick=False):
        sign_in(client, front_desk)
        yield client


def test_the_front_desk_sees_the_report_as_charts(desk_client, week):
    response = desk_client.get(
        reverse("staff_reports"), {"first": FIRST, "last": LAST, "location": "buckhead"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Bookings per aesthetician" in page and "<svg" in page
    assert "50%" in page  # the no-show rate
    assert "export.csv?first=2027-03-01&amp;last=2027-03-07&amp;location=buckhead" in page


def test_it_defaults_to_the_last_30_days(desk_client, week):
    response = desk_client.get(reverse("staff_reports"))

    assert response.status_code == 200
    assert response.context["report"].first == date(2027, 2, 9)
    assert response.context["report"].last == date(2027, 3, 10)


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2027-03-07", "2027-03-01", "before its start"),
        ("2026-01-01", "2027-03-01", "at most 366 days"),
        ("yesterday", "2027-03-01", "Enter a valid date"),
    ],
)
def test_a_bad_period_is_explained_not_a_500(desk_client, first, last, message):
    response = desk_client.get(reverse("staff_reports"), {"first": first, "last": last})

    assert response.status_code == 400
    assert message in response.content.decode()
    csv_response = desk_client.get(reverse("staff_reports_csv"), {"first": first, "last": last})
    assert csv_response.status_code == 400


def test_the_csv_has_every_figure(desk_client, week):
    response = desk_client.get(reverse("staff_reports_csv"), {"first": FIRST, "last": LAST})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "skinclinic-all-2027-03-01-2027-03-07.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    totals = {row[1]: row[2] for row in rows if row[0] == "total"}
    assert totals["no_show_rate_percent"] == "50.0"
    assert totals["late_cancel_rate_percent"] == "20.0"
    assert (totals["plans_started"], totals["plans_completed"], totals["plans_overdue"]) == (
        "1",
        "1",
        "1",
    )
    assert totals["maintenance_recalls_booked"] == "1"
    aesthetician = next(row for row in rows if row[0] == "aesthetician")
    assert aesthetician[2:] == ["3", "1", "1", "1", "225", "2400", "9.4"]


def test_the_csv_has_the_outcomes_rebooking_and_course_figures(desk_client, courses):
    response = desk_client.get(reverse("staff_reports_csv"), {"first": FIRST, "last": LAST})

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    totals = {row[1]: row[2] for row in rows if row[0] == "total"}
    assert (totals["past_visits_with_outcome"], totals["past_visits_still_booked"]) == ("2", "1")
    assert totals["rebooking_rate_percent"] == "100.0"
    assert (totals["courses_started"], totals["courses_completed"]) == ("3", "1")
    assert totals["course_completion_rate_percent"] == "33.3"
    sessions = [row[1:] for row in rows if row[0] == "course_session"]
    assert sessions[1] == ["2", "3", "2", "66.7"] and sessions[3] == ["4", "1", "0", "0.0"]
    [still_booked] = [row for row in rows if row[0] == "still_booked"]
    assert still_booked[2:] == [
        "2027-03-03T10:00:00-05:00",
        still_booked[3],
        "Microneedling",
        "booked",
    ]


def _section(page: str, title: str) -> str:
    return page.split(title, 1)[1].split("</section>", 1)[0]


def test_utilisation_bars_are_drawn_on_a_0_to_100_scale(desk_client, week):
    response = desk_client.get(reverse("staff_reports"), {"first": FIRST, "last": LAST})

    page = response.content.decode()
    # 225 of 2,400 minutes is 9.4%: drawn 9.4% wide, not full width as the only bar.
    aesthetician = _section(page, "Utilisation per aesthetician (0-100%)")
    assert '<rect width="9.4"' in aesthetician and "9%" in aesthetician
    room = _section(page, "Utilisation per room (0-100%)")
    assert '<rect width="13.1"' in room  # 315 of 2,400
    assert '<rect width="100.0"' in _section(page, "Bookings per aesthetician")


def test_the_desk_is_asked_to_resolve_past_visits_still_booked(desk_client, week):
    left_booked = Appointment.objects.get(status="booked", start=at(3, 3, 10))

    response = desk_client.get(reverse("staff_reports"), {"first": FIRST, "last": LAST})

    page = response.content.decode()
    assert "1 past visit still marked Booked: resolve" in page
    assert f'href="{reverse("desk:appointment", args=[left_booked.pk])}"' in page
    assert "1 of 2 past visits with an outcome" in page
    assert "+ 1 still marked Booked" in page


def test_the_page_shows_rebooking_course_completion_and_drop_off(desk_client, courses):
    response = desk_client.get(reverse("staff_reports"), {"first": FIRST, "last": LAST})

    page = response.content.decode()
    assert "Rebooking rate" in page
    assert (
        "1 of 1 patients with a completed visit had their next visit booked within 8 weeks" in page
    )
    assert "1 of 3 courses started in the period completed every session" in page
    drop_off = _section(page, "Courses started: how far they got")
    assert "Session 2" in drop_off and "2 of 3" in drop_off and '<rect width="66.7"' in drop_off


def test_names_that_look_like_formulas_are_defused_in_the_csv(desk_client, week):
    week["room"].name = "=HYPERLINK(1)"
    week["room"].save()

    response = desk_client.get(reverse("staff_reports_csv"), {"first": FIRST, "last": LAST})

    assert "'=HYPERLINK(1)" in response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "patient", "aesthetician"])
def test_only_the_front_desk_may_open_it(client, clinic, who):
    if who == "patient":
        sign_in(client, factories.PatientFactory().user)
    elif who == "aesthetician":
        sign_in(client, clinic["provider"].user)

    for name in ("staff_reports", "staff_reports_csv"):
        response = client.get(reverse(name))
        assert response.status_code == (302 if who == "anonymous" else 403)
