"""My appointments: visits and courses, cancel and reschedule within the rules, calendar files,
contact details, and nobody else's visits."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.models import Appointment
from tests import factories
from tests.helpers import at, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")

TUESDAY = date(2027, 3, 2)
THURSDAY = date(2027, 3, 4)


def book(clinic, patient, start, now):
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=now,
    )


@pytest.fixture
def course(clinic, patient, frozen):
    """A four-session course with only its first session booked, on Tuesday at 10:00."""
    return services.start_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_start=at(TUESDAY, 10),
        now=frozen,
    ).plan


def test_the_portal_shows_the_course_progress_and_next_window(signed_in, course):
    page = signed_in.get(reverse("my_appointments")).content.decode()

    assert "Microneedling course" in page
    assert "0 of 4 sessions done, 1 booked" in page
    assert "Next: Session 2 of 4" in page
    assert "between Mar 30 and Apr 13, 2027" in page
    assert "Tue, Mar 2, 2027 at 10:00 AM" in page
    assert reverse("plan_next", args=[course.pk]) in page


def test_the_next_session_shows_times_only_inside_its_window(signed_in, course):
    page = signed_in.get(reverse("plan_next", args=[course.pk])).content.decode()

    assert "Only times between March 30 and April 13, 2027 are shown" in page
    assert "2027-03-30T" in page
    assert "2027-03-29T" not in page
    later = signed_in.get(reverse("plan_next", args=[course.pk]) + "?week=2027-05-01")
    assert "2027-04-13T" in later.content.decode()
    assert "2027-04-14T" not in later.content.decode()


def test_a_visit_can_be_cancelled_outside_the_notice(signed_in, clinic, patient, frozen):
    visit = book(clinic, patient, at(THURSDAY, 10), frozen)  # 74 hours ahead

    response = signed_in.post(reverse("visit_cancel", args=[visit.pk]))

    assert response["Location"] == reverse("my_appointments")
    visit.refresh_from_db()
    assert visit.status == "cancelled"
    assert not visit.late_cancellation


def test_inside_the_notice_cancelling_online_is_refused_with_the_phone(
    signed_in, clinic, patient, frozen
):
    visit = book(clinic, patient, at(TUESDAY, 10), frozen)  # 26 hours ahead, notice is 48

    page = signed_in.get(reverse("visit_cancel", args=[visit.pk])).content.decode()
    response = signed_in.post(reverse("visit_cancel", args=[visit.pk]))

    assert "can't be cancelled online" in page
    assert "+14045550100" in page
    assert response.status_code == 403
    assert "+14045550100" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == "booked"
    detail = signed_in.get(reverse("visit_detail", args=[visit.pk])).content.decode()
    assert "Cancel visit" not in detail and "tel:+14045550100" in detail


def test_another_patients_visit_answers_404(signed_in, clinic, frozen):
    someone_else = factories.PatientFactory()
    visit = book(clinic, someone_else, at(THURSDAY, 10), frozen)

    for name in ("visit_detail", "visit_ics", "visit_cancel", "visit_reschedule", "book_done"):
        assert signed_in.get(reverse(name, args=[visit.pk])).status_code == 404, name
    assert signed_in.post(reverse("visit_cancel", args=[visit.pk])).status_code == 404
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_another_patients_course_answers_404(signed_in, clinic, frozen):
    other = services.start_plan(
        patient=factories.PatientFactory(),
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=frozen,
    )

    assert signed_in.get(reverse("plan_next", args=[other.plan.pk])).status_code == 404


def test_the_portal_needs_a_sign_in(client, db):
    response = client.get(reverse("my_appointments"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_visit_moves_to_a_free_time(signed_in, clinic, patient, frozen):
    visit = book(clinic, patient, at(THURSDAY, 10), frozen)
    new_start = at(date(2027, 3, 5), 14)

    response = signed_in.post(
        reverse("visit_reschedule", args=[visit.pk]), {"start": new_start.isoformat()}
    )

    assert response["Location"] == reverse("visit_detail", args=[visit.pk])
    visit.refresh_from_db()
    assert visit.start == new_start


def test_rescheduling_outside_the_sessions_window_is_refused(
    signed_in, clinic, patient, course, frozen
):
    second = services.book_plan_session(plan=course, start=at(date(2027, 4, 6), 10), now=frozen)

    page = signed_in.get(reverse("visit_reschedule", args=[second.pk])).content.decode()
    assert "Only times between March 30 and April 13, 2027 are shown" in page
    response = signed_in.post(
        reverse("visit_reschedule", args=[second.pk]),
        {"start": at(date(2027, 4, 20), 10).isoformat()},
    )

    assert response.status_code == 400
    assert "Session 2 must be between Mar 30 and Apr 13, 2027." in response.content.decode()
    second.refresh_from_db()
    assert second.start == at(date(2027, 4, 6), 10)


def test_rescheduling_inside_the_notice_is_refused(signed_in, clinic, patient, frozen):
    visit = book(clinic, patient, at(TUESDAY, 10), frozen)

    response = signed_in.post(
        reverse("visit_reschedule", args=[visit.pk]),
        {"start": at(date(2027, 3, 9), 10).isoformat()},
    )

    assert response.status_code == 400
    assert "+14045550100" in response.content.decode()
    visit.refresh_from_db()
    assert visit.start == at(TUESDAY, 10)


def test_a_visit_downloads_as_a_calendar_file_in_the_clinics_zone(
    signed_in, clinic, patient, course
):
    visit = course.appointments.get()

    response = signed_in.get(reverse("visit_ics", args=[visit.pk]))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert "DTSTART;TZID=America/New_York:20270302T100000\r\n" in body
    assert "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n" in body
    assert "SUMMARY:Microneedling at Buckhead (session 1 of 4)" in body


def test_a_whole_course_downloads_as_one_calendar(signed_in, clinic, patient, frozen):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=frozen,
    )
    first = plan.appointments.order_by("start").first()

    body = signed_in.get(reverse("visit_ics", args=[first.pk]) + "?all=1").content.decode()

    assert body.count("BEGIN:VEVENT") == 3


def test_past_and_cancelled_visits_are_listed_apart(signed_in, clinic, patient, frozen):
    visit = book(clinic, patient, at(THURSDAY, 10), frozen)
    services.cancel_appointment(appointment=visit, now=frozen, staff=True)

    page = signed_in.get(reverse("my_appointments")).content.decode()

    upcoming, past = page.split("Past and cancelled")
    assert "Nothing booked yet." in upcoming
    assert "Cancelled" in past


def test_contact_details_and_reminder_preferences(signed_in, patient):
    response = signed_in.post(
        reverse("my_details"),
        {
            "first_name": "Ana",
            "last_name": "Lima",
            "phone": "+1 404 555 0142",
            "date_of_birth": "1990-05-17",
            "email_consent": "on",
        },
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.first_name, patient.phone) == ("Ana", "+1 404 555 0142")
    assert patient.email_consent and not patient.sms_consent


def test_a_patient_opts_out_of_all_reminders(signed_in, patient):
    patient.sms_consent = True
    patient.save()

    signed_in.post(reverse("my_details"), {"opt_out": "1"})

    patient.refresh_from_db()
    assert not patient.email_consent and not patient.sms_consent


def test_a_wrong_birth_date_is_explained(signed_in, patient):
    response = signed_in.post(
        reverse("my_details"),
        {"first_name": "A", "last_name": "B", "phone": "1", "date_of_birth": "2999-01-01"},
    )

    assert "Please check your date of birth." in response.content.decode()


def test_cancelling_a_visit_twice_is_a_message(signed_in, clinic, patient, frozen):
    visit = book(clinic, patient, at(THURSDAY, 10), frozen)
    signed_in.post(reverse("visit_cancel", args=[visit.pk]))

    response = signed_in.post(reverse("visit_cancel", args=[visit.pk]), follow=True)

    assert response.status_code == 200
    assert "not booked any more" in response.content.decode()
    assert Appointment.objects.get(pk=visit.pk).status == "cancelled"


def test_plan_progress_counts_completed_sessions(signed_in, clinic, patient, course, frozen):
    first = course.appointments.get()
    with time_machine.travel(at(TUESDAY, 12), tick=False):
        services.change_status(appointment=first, status="completed", now=at(TUESDAY, 12))
        sign_in(signed_in, patient.user)
        page = signed_in.get(reverse("my_appointments")).content.decode()

    assert "1 of 4 sessions done" in page
