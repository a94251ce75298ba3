"""Booking, series booking, rescheduling and cancelling through booking.services."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from booking import schedule, services
from booking.models import Appointment, AuditEntry
from tests import factories
from tests.helpers import NEW_YORK, at, book

TUESDAY = date(2027, 3, 2)


def test_it_books_a_free_time_and_holds_room_and_aesthetician(clinic, patient, now):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    assert appointment.provider == clinic["provider"]
    assert appointment.room == clinic["room"]
    assert appointment.start == at(TUESDAY, 10)
    # 30 min numbing (room only), 60 min treatment, 15 min cleanup.
    assert appointment.provider_start == at(TUESDAY, 10, 30)
    assert appointment.end == at(TUESDAY, 11, 30)
    assert appointment.held_until == at(TUESDAY, 11, 45)
    assert AuditEntry.objects.filter(appointment=appointment, action="booked").exists()


def test_it_refuses_a_taken_time_with_a_clear_message(clinic, patient, now):
    book(clinic, patient, at(TUESDAY, 10), now)

    with pytest.raises(services.SlotTaken, match="already taken"):
        book(clinic, factories.PatientFactory(), at(TUESDAY, 10, 30), now)


def test_it_refuses_outside_working_hours(clinic, patient, now):
    with pytest.raises(services.BookingError, match="working hours"):
        book(clinic, patient, at(TUESDAY, 16, 0), now)


def test_patients_need_notice_but_staff_do_not(clinic, patient, now, front_desk):
    soon = now + timedelta(hours=1, minutes=15)
    with pytest.raises(services.BookingError, match="notice"):
        book(clinic, patient, soon, now)

    appointment = book(clinic, patient, soon, now, staff=True, booked_by=front_desk)
    assert appointment.booked_by == front_desk


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_an_overlap_that_skips_the_services(clinic, patient, now):
    first = book(clinic, patient, at(TUESDAY, 10), now)
    clash = Appointment(
        patient=patient,
        treatment=first.treatment,
        location=first.location,
        provider=first.provider,
        room=factories.RoomFactory(location=first.location),
    )
    clash.set_times(at(TUESDAY, 10, 45))

    with (
        pytest.raises(IntegrityError, match="appointment_provider_no_overlap"),
        transaction.atomic(),
    ):
        clash.save()


def test_a_cancelled_visit_frees_its_time(clinic, patient, now):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    services.cancel_appointment(appointment=appointment, now=now, staff=True)

    again = book(clinic, factories.PatientFactory(), at(TUESDAY, 10), now)
    assert again.status == Appointment.Status.BOOKED


def test_cancelling_inside_the_notice_is_late(clinic, patient, now):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)  # 26 hours ahead; notice is 48

    cancelled = services.cancel_appointment(
        appointment=appointment, now=now, reason="sick", staff=True
    )

    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.late_cancellation is True
    assert AuditEntry.objects.filter(appointment=appointment, action="cancelled_late").exists()


def test_cancelling_with_notice_is_not_late(clinic, patient, now):
    appointment = book(clinic, patient, at(date(2027, 3, 10), 10), now)

    assert (
        services.cancel_appointment(appointment=appointment, now=now, staff=True).late_cancellation
        is False
    )


def test_it_books_a_whole_plan_on_the_same_weekday_and_time(clinic, patient, now):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_start=at(TUESDAY, 10),
        now=now,
    )

    visits = list(plan.appointments.order_by("start"))
    assert [v.session_number for v in visits] == [1, 2, 3, 4]
    local = [v.start.astimezone(NEW_YORK) for v in visits]
    assert all(v.weekday() == 1 and (v.hour, v.minute) == (10, 0) for v in local)
    for earlier, later in zip(local, local[1:], strict=False):
        assert 28 <= (later.date() - earlier.date()).days <= 42


def test_a_plan_keeps_its_wall_clock_time_across_dst(clinic, patient):
    # New York springs forward on 2027-03-14 at 02:00 EST (07:00 UTC): 10:00 stays 10:00.
    now = datetime(2027, 2, 1, 9, tzinfo=NEW_YORK)
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(date(2027, 2, 2), 10),
        now=now,
    )

    offsets = {v.start.astimezone(NEW_YORK).utcoffset() for v in plan.appointments.all()}
    hours = {v.start.astimezone(NEW_YORK).hour for v in plan.appointments.all()}
    assert hours == {10}
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}


def test_a_plan_is_all_or_nothing(clinic, patient, now):
    # The aesthetician is away for the whole of session 2's window.
    factories.TimeOffFactory(
        provider=clinic["provider"],
        start=at(date(2027, 3, 20), 0),
        end=at(date(2027, 5, 1), 0),
        reason="Leave",
    )

    with pytest.raises(services.SessionNotPlaced) as error:
        services.book_plan(
            patient=patient,
            treatment=clinic["treatment"],
            location=clinic["location"],
            sessions=3,
            first_start=at(TUESDAY, 10),
            now=now,
        )

    assert error.value.session_number == 2
    assert "Session 2" in str(error.value)
    assert not Appointment.objects.exists()


def test_a_patient_cannot_move_a_session_outside_its_window(clinic, patient, now):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    second = plan.appointments.get(session_number=2)

    with pytest.raises(services.OutsideWindow, match="Session 2 must be between Mar 30 and Apr 13"):
        services.reschedule_appointment(
            appointment=second, start=at(date(2027, 3, 16), 10), now=now
        )


def test_staff_may_move_outside_the_window_with_a_reason(clinic, patient, now, front_desk):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    second = plan.appointments.get(session_number=2)
    with pytest.raises(services.OutsideWindow, match="Give a reason"):
        services.reschedule_appointment(
            appointment=second, start=at(date(2027, 3, 16), 10), now=now, staff=True
        )

    moved = services.reschedule_appointment(
        appointment=second,
        start=at(date(2027, 3, 16), 10),
        now=now,
        staff=True,
        actor=front_desk,
        reason="Patient travelling",
    )

    assert moved.out_of_window_reason == "Patient travelling"
    entry = AuditEntry.objects.get(appointment=moved, action="rescheduled")
    assert entry.actor == front_desk and entry.reason == "Patient travelling"


def test_moving_a_session_replans_the_later_windows(clinic, patient, now):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    second = plan.appointments.get(session_number=2)
    services.reschedule_appointment(appointment=second, start=at(date(2027, 4, 13), 10), now=now)

    third = schedule.session_window(plan.appointments.get(session_number=3))
    assert (third.earliest, third.latest) == (date(2027, 5, 11), date(2027, 5, 25))


def test_status_changes_follow_the_visit(clinic, patient, now, front_desk):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    with time_machine.travel(at(TUESDAY, 9, 55)):
        services.change_status(
            appointment=appointment, status="checked_in", now=at(TUESDAY, 9, 55), actor=front_desk
        )
    done = services.change_status(
        appointment=appointment, status="completed", now=at(TUESDAY, 11, 30), actor=front_desk
    )
    assert done.status == "completed"

    with pytest.raises(services.BookingError, match="cannot be marked no-show"):
        services.change_status(appointment=appointment, status="no_show", now=now)


def test_a_visit_over_the_autumn_change_lasts_its_real_length(clinic, patient):
    # New York falls back on 2027-11-07 at 02:00 EDT (06:00 UTC) to 01:00 EST. Staff book a
    # 01:00 EDT start (05:00 UTC): 90 minutes later is 06:30 UTC, 01:30 EST on the wall clock.
    clinic["provider"].working_hours.create(
        location=clinic["location"],
        weekday=6,
        start_time=datetime.min.time(),
        end_time=datetime.max.time().replace(microsecond=0, second=0),
    )
    start = datetime(2027, 11, 7, 1, 0, tzinfo=NEW_YORK)  # fold=0: the first 01:00, EDT
    appointment = book(clinic, patient, start, start - timedelta(days=1), staff=True)

    assert appointment.end.timestamp() - appointment.start.timestamp() == 90 * 60
    assert appointment.end.astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:30 EST"


def test_moving_a_session_may_not_push_a_later_booked_one_out_of_its_window(
    clinic, patient, now, front_desk
):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    second = plan.appointments.get(session_number=2)  # 35 days after session 1
    first = plan.appointments.get(session_number=1)
    # Session 1 two weeks later would leave session 2 only 21 days after it (minimum 28).

    # (Asked two days ahead: inside the online notice a patient is told to call instead.)
    with pytest.raises(services.OutsideWindow, match="would put session 2"):
        services.reschedule_appointment(
            appointment=first, start=at(date(2027, 3, 16), 10), now=now - timedelta(days=1)
        )

    moved = services.reschedule_appointment(
        appointment=first,
        start=at(date(2027, 3, 16), 10),
        now=now,
        staff=True,
        actor=front_desk,
        reason="Patient was ill; session 2 will be rebooked",
    )
    assert moved.out_of_window_reason.startswith("Patient was ill")
    assert second.start == plan.appointments.get(session_number=2).start


def test_a_visit_cannot_be_marked_done_or_missed_before_it_starts(clinic, patient, now):
    visit = book(clinic, patient, at(TUESDAY, 10), now)

    for status in ("completed", "no_show"):
        with pytest.raises(services.BookingError, match="cannot be marked .* yet"):
            services.change_status(appointment=visit, status=status, now=at(TUESDAY, 9, 59))
    with pytest.raises(services.BookingError, match="checked in yet"):
        services.change_status(appointment=visit, status="checked_in", now=at(TUESDAY, 8, 59))

    assert (
        services.change_status(appointment=visit, status="checked_in", now=at(TUESDAY, 9, 5)).status
        == "checked_in"
    )
