"""Phone bookings, status changes and moves at the front desk."""

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.models import Appointment, AuditEntry, ClosedDay, Patient, ScreeningAnswer
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in
from treatments.models import ScreeningRule

TUESDAY = date(2027, 3, 2)
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)
MEMORIAL_DAY = date(2027, 5, 31)  # a Monday


@pytest.fixture
def desk(client, front_desk):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        yield client


def booking_data(clinic, **fields):
    return {
        "location": clinic["location"].slug,
        "treatment": clinic["treatment"].pk,
        "provider": clinic["provider"].pk,
        "date": "2027-03-02",
        "time": "10:00",
        **fields,
    }


def book(clinic, patient, start):
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=NOW,
        provider=clinic["provider"],
        staff=True,
    )


def test_it_books_a_new_phone_patient_and_records_who_did_it(desk, clinic, front_desk):
    response = desk.post(
        reverse("desk:book"),
        booking_data(clinic, first_name="Nora", last_name="Phone", phone="+1 404 555 0123"),
    )

    assert response.status_code == 302
    patient = Patient.objects.get(first_name="Nora")
    appointment = patient.appointments.get()
    assert appointment.start == at(TUESDAY, 10)
    assert appointment.booked_by == front_desk
    assert AuditEntry.objects.filter(patient=patient, action="patient_created").exists()
    assert AuditEntry.objects.filter(appointment=appointment, action="booked", actor=front_desk)


def test_it_books_an_existing_patient_found_by_search(desk, clinic, patient):
    found = desk.get(
        reverse("desk:patients"), {"q": patient.last_name, "pick": 1}, HTTP_HX_REQUEST="true"
    )
    assert f'value="{patient.pk}"' in found.content.decode()

    response = desk.post(reverse("desk:book"), booking_data(clinic, patient=patient.pk))

    assert response.status_code == 302
    assert patient.appointments.count() == 1


def test_a_new_patient_needs_a_name_and_phone(desk, clinic):
    response = desk.post(reverse("desk:book"), booking_data(clinic, first_name="Nora"))

    assert response.status_code == 200
    assert "Needed for a new patient" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_taken_time_is_refused_with_the_nearest_free_times(desk, clinic, patient):
    book(clinic, patient, at(TUESDAY, 10))

    response = desk.post(
        reverse("desk:book"),
        booking_data(clinic, patient=factories.PatientFactory().pk, time="10:15"),
    )

    html = response.content.decode()
    assert "already taken" in html
    suggestions = response.context["suggestions"]
    assert suggestions
    # The only room is held 10:00-11:45 (numbing, treatment, cleanup), so nothing that
    # morning fits; the nearest free start is 11:45.
    starts = [slot.start for slot in suggestions]
    assert starts[0] == at(TUESDAY, 11, 45)
    assert "11:45" in html


def test_a_suggested_time_books_with_one_click(desk, clinic, patient):
    slot = f"{at(TUESDAY, 11, 15).isoformat()}|{clinic['provider'].pk}"

    response = desk.post(reverse("desk:book"), booking_data(clinic, patient=patient.pk, slot=slot))

    assert response.status_code == 302
    assert patient.appointments.get().start == at(TUESDAY, 11, 15)


def test_a_time_the_clocks_skip_is_refused(desk, clinic, patient):
    response = desk.post(
        reverse("desk:book"),
        booking_data(clinic, patient=patient.pk, date="2027-03-14", time="02:30"),
    )

    assert "does not exist" in response.content.decode()


def screened(patient, clinic, code, outcome):
    rule = ScreeningRule.objects.create(code=code, question=f"{code}?", outcome=outcome)
    rule.treatments.add(clinic["treatment"])
    ScreeningAnswer.objects.create(patient=patient, rule=rule, yes=True, answered_at=NOW)
    return rule


def test_a_blocking_screening_needs_a_recorded_reason(desk, clinic, patient, front_desk):
    screened(patient, clinic, "pregnancy", "not_now")
    flags = desk.post(
        reverse("desk:book_screening"),
        {"patient": patient.pk, "treatment": clinic["treatment"].pk, "location": "buckhead"},
    )
    assert "Not now" in flags.content.decode()

    refused = desk.post(reverse("desk:book"), booking_data(clinic, patient=patient.pk))
    assert "Give a reason" in refused.content.decode()
    assert not Appointment.objects.exists()

    desk.post(
        reverse("desk:book"),
        booking_data(clinic, patient=patient.pk, override_reason="Doctor's letter: cleared"),
    )

    override = AuditEntry.objects.get(action="screening_override")
    assert override.reason == "Doctor's letter: cleared"
    assert override.actor == front_desk
    assert override.appointment.patient == patient


def test_a_provider_review_flag_is_shown_but_books(desk, clinic, patient):
    screened(patient, clinic, "isotretinoin", "provider_review")

    response = desk.post(reverse("desk:book"), booking_data(clinic, patient=patient.pk))

    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="screening_flagged").exists()


@pytest.mark.parametrize(
    ("status", "label"),
    [("checked_in", "checked in"), ("no_show", "no-show"), ("completed", "completed")],
)
def test_status_changes_are_one_click_and_recorded(
    desk, clinic, patient, front_desk, status, label
):
    appointment = book(clinic, patient, at(TUESDAY, 10))

    with time_machine.travel(at(TUESDAY, 10, 5), tick=False):  # the visit has begun
        response = desk.post(
            reverse("desk:appointment_status", args=[appointment.pk]),
            {"status": status},
            follow=True,
        )

    appointment.refresh_from_db()
    assert appointment.status == status
    assert f"marked {label}" in response.content.decode()
    assert AuditEntry.objects.filter(appointment=appointment, action=status, actor=front_desk)


def test_a_refused_status_change_says_why(desk, clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    services.change_status(appointment=appointment, status="completed", now=at(TUESDAY, 11, 30))

    with time_machine.travel(at(TUESDAY, 11, 35), tick=False):
        response = desk.post(
            reverse("desk:appointment_status", args=[appointment.pk]),
            {"status": "no_show"},
            follow=True,
        )

    assert "cannot be marked" in response.content.decode()


def test_a_visit_is_not_marked_done_before_it_starts(desk, clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))

    response = desk.post(
        reverse("desk:appointment_status", args=[appointment.pk]),
        {"status": "completed"},
        follow=True,
    )

    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert "cannot be marked completed yet" in response.content.decode()


def test_status_changes_are_post_only(desk, clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))

    assert desk.get(reverse("desk:appointment_status", args=[appointment.pk])).status_code == 405


def test_cancel_needs_a_reason_and_is_late_inside_the_notice(desk, clinic, patient, front_desk):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    url = reverse("desk:appointment_cancel", args=[appointment.pk])

    desk.post(url, {"reason": ""})
    appointment.refresh_from_db()
    assert appointment.status == "booked"

    response = desk.post(url, {"reason": "Sick child"}, follow=True)

    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert appointment.late_cancellation  # 26 hours' notice, the policy asks for 48
    assert "late cancellation" in response.content.decode()
    entry = AuditEntry.objects.get(appointment=appointment, action="cancelled_late")
    assert (entry.actor, entry.reason) == (front_desk, "Sick child")


def test_drag_move_to_another_aesthetician_answers_json(desk, clinic, patient):
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    appointment = book(clinic, patient, at(TUESDAY, 10))

    response = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": "2027-03-02", "time": "13:00", "provider": other.pk},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    assert response.json()["ok"]
    appointment.refresh_from_db()
    assert (appointment.provider, appointment.start) == (other, at(TUESDAY, 13))
    moved = AuditEntry.objects.get(appointment=appointment, action="rescheduled")
    assert moved.changes["provider"] == [clinic["provider"].pk, other.pk]


def test_a_move_onto_a_taken_time_is_refused_with_409(desk, clinic, patient):
    book(clinic, factories.PatientFactory(), at(TUESDAY, 10))
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    appointment = book(clinic, patient, at(TUESDAY, 14))

    response = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": "2027-03-02", "time": "10:30"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 409
    assert "already taken" in response.json()["message"]
    appointment.refresh_from_db()
    assert appointment.start == at(TUESDAY, 14)


def test_appointment_page_shows_its_audit_trail(desk, clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))

    response = desk.get(reverse("desk:appointment", args=[appointment.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Audit trail" in html and "Booked" in html
    assert "10:00–11:30" in html


def test_unknown_appointments_are_404(desk, db):
    assert desk.get(reverse("desk:appointment", args=[999])).status_code == 404


def test_a_phone_booking_on_a_closed_day_is_refused_with_its_name(desk, clinic, patient):
    ClosedDay.objects.create(location=clinic["location"], date=MEMORIAL_DAY, name="Memorial Day")

    response = desk.post(
        reverse("desk:book"), booking_data(clinic, patient=patient.pk, date="2027-05-31")
    )

    assert response.status_code == 200
    assert "The clinic is closed that day (Memorial Day)." in response.content.decode()
    assert not Appointment.objects.exists()
    assert all(slot.start.date() != MEMORIAL_DAY for slot in response.context["suggestions"] or ())


def test_a_visit_cannot_be_moved_onto_a_closed_day(desk, clinic, patient):
    ClosedDay.objects.create(location=clinic["location"], date=MEMORIAL_DAY, name="Memorial Day")
    appointment = book(clinic, patient, at(TUESDAY, 10))

    response = desk.post(
        reverse("desk:appointment_move", args=[appointment.pk]),
        {"date": "2027-05-31", "time": "10:00"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json()["message"] == "The clinic is closed that day (Memorial Day)."
    appointment.refresh_from_db()
    assert appointment.start == at(TUESDAY, 10)
