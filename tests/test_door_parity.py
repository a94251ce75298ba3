"""Every rule holds through every door: the patient's web flow, the API, the desk's phone
booking and the Django admin call the same services, so each rule below gives the same
outcome through each door that can reach it: refused with the same reason, or allowed with a
recorded override (docs/architecture.md has the table)."""

import threading
from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from booking import services
from booking.models import Appointment, AuditEntry, ScreeningAnswer
from tests import factories
from tests.helpers import at, book, sign_in

NEXT_TUESDAY = date(2027, 3, 9)  # a week out: outside every notice
TUESDAY = date(2027, 3, 2)  # 26 hours after `now`: inside the 48-hour notice
API = "/api/v1"
PATIENT_DOORS = ("web", "api")
STAFF_DOORS = ("phone", "admin")


@pytest.fixture
def other_place(clinic):
    """A second clinic (Midtown) offering the same treatment, with a room and an aesthetician."""
    midtown = factories.LocationFactory(name="Midtown")
    factories.RoomFactory(location=midtown, treatments=[clinic["treatment"]])
    provider = factories.ProviderFactory(locations=[midtown], treatments=[clinic["treatment"]])
    return {**clinic, "location": midtown, "provider": provider}


@pytest.fixture
def staff_user(db):
    return factories.UserFactory(
        username="frontdesk", groups=["Front desk"], is_staff=True, is_superuser=True
    )


def attempt(door, client, place, patient, start: datetime, *, reason="", answers=None):
    """Try to book `patient` for the treatment at `place` at `start` through `door`; returns
    the text the person at that door reads."""
    treatment, location = place["treatment"], place["location"]
    if door == "web":
        sign_in(client, patient.user)
        url = reverse("book_times", args=[treatment.slug, location.slug]) + "?with=any"
        client.post(url, {"start": start.isoformat()})
        if answers is None:
            client.get(reverse("book_screening"))  # no questions for this treatment
        else:
            client.post(reverse("book_screening"), {f"q_{c}": v for c, v in answers.items()})
        response = client.post(reverse("book_review"), {"choice": "one"}, follow=True)
        return response.content.decode()
    if door == "api":
        api = APIClient()
        sign_in(api, patient.user)
        body = {"treatment": treatment.slug, "location": location.slug, "start": start.isoformat()}
        if answers is not None:
            body["screening"] = [{"code": c, "yes": v == "yes"} for c, v in answers.items()]
        response = api.post(f"{API}/appointments/", body, format="json")
        return f"{response.status_code} {response.json()}"
    sign_in(client, place["staff"])
    local = location.local(start)
    if door == "phone":
        response = client.post(
            reverse("desk:book"),
            {
                "patient": patient.pk,
                "treatment": treatment.pk,
                "location": location.slug,
                "provider": place["provider"].pk,
                "date": f"{local:%Y-%m-%d}",
                "time": f"{local:%H:%M}",
                "override_reason": reason,
            },
            follow=True,
        )
        return response.content.decode()
    assert door == "admin"
    room = location.rooms.first()
    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": patient.pk,
            "treatment": treatment.pk,
            "location": location.pk,
            "provider": place["provider"].pk,
            "room": room.pk,
            "start_0": f"{local:%Y-%m-%d}",
            "start_1": f"{local:%H:%M:%S}",
            "status": "booked",
            "kind": "single",
            "override_reason": reason,
        },
        follow=True,
    )
    return response.content.decode()


# --- screening: "not now" -------------------------------------------------------------------


@pytest.fixture
def pregnant(screening_rules):
    """Today's answers: every question no, except pregnancy (a "not now" rule)."""
    return {rule.code: "yes" if rule.code == "pregnancy" else "no" for rule in screening_rules}


@pytest.mark.parametrize("door", PATIENT_DOORS)
def test_a_patient_the_screening_refuses_cannot_book_through_any_door(
    door, client, clinic, patient, pregnant, frozen
):
    said = attempt(door, client, clinic, patient, at(NEXT_TUESDAY, 10), answers=pregnant)

    assert "not safe for you right now" in said or "consultation" in said
    assert not Appointment.objects.exists()
    if door == "api":
        assert said.startswith("409")
        assert not ScreeningAnswer.objects.exists()  # answers of a refused booking are not kept


@pytest.mark.parametrize("door", STAFF_DOORS)
def test_staff_book_past_a_screening_refusal_only_with_a_recorded_reason(
    door, client, clinic, patient, screening_rules, pregnant, staff_user, frozen
):
    for rule in screening_rules:
        ScreeningAnswer.objects.create(
            patient=patient, rule=rule, yes=pregnant[rule.code] == "yes", answered_at=frozen
        )
    place = {**clinic, "staff": staff_user}

    refused = attempt(door, client, place, patient, at(NEXT_TUESDAY, 10))
    assert "Give a reason to book anyway" in refused
    assert not Appointment.objects.exists()

    attempt(door, client, place, patient, at(NEXT_TUESDAY, 10), reason="Cleared by her OB")
    visit = Appointment.objects.get()
    entry = AuditEntry.objects.get(action="screening_override", appointment=visit)
    assert entry.reason == "Cleared by her OB" and entry.actor == staff_user


# --- one patient, one visit at a time ---------------------------------------------------------


@pytest.mark.parametrize("door", (*PATIENT_DOORS, *STAFF_DOORS))
def test_no_door_lets_a_patient_hold_two_overlapping_visits(
    door, client, clinic, other_place, patient, staff_user, frozen
):
    book(clinic, patient, at(NEXT_TUESDAY, 9), frozen, staff=True)  # 09:00-10:30 at Buckhead

    said = attempt(
        door, client, {**other_place, "staff": staff_user}, patient, at(NEXT_TUESDAY, 10)
    )

    assert "This patient already has a visit then" in said
    assert Appointment.objects.count() == 1


# --- the online notice ------------------------------------------------------------------------


@pytest.mark.parametrize("door", PATIENT_DOORS)
def test_inside_the_notice_a_patient_is_told_to_call_through_any_door(
    door, client, clinic, patient, frozen
):
    visit = book(clinic, patient, at(TUESDAY, 10), frozen, staff=True)
    if door == "web":
        sign_in(client, patient.user)
        response = client.post(reverse("visit_cancel", args=[visit.pk]))
        said = response.content.decode()
        assert response.status_code == 403
    else:
        api = APIClient()
        sign_in(api, patient.user)
        response = api.post(f"{API}/appointments/{visit.pk}/cancel/", {}, format="json")
        said = response.json()["detail"]
        assert response.status_code == 409
    assert "call" in said.lower()
    visit.refresh_from_db()
    assert visit.is_active


def test_the_desk_cancels_inside_the_notice_and_it_counts_as_late(
    client, clinic, patient, staff_user, frozen
):
    visit = book(clinic, patient, at(TUESDAY, 10), frozen, staff=True)
    sign_in(client, staff_user)

    client.post(reverse("desk:appointment_cancel", args=[visit.pk]), {"reason": "Called in sick"})

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CANCELLED and visit.late_cancellation


# --- the hour's booking limit -----------------------------------------------------------------


@pytest.mark.parametrize("door", PATIENT_DOORS)
def test_the_hourly_booking_limit_counts_every_door(
    door, client, clinic, patient, settings, frozen
):
    settings.PATIENT_BOOKINGS_PER_HOUR = 1
    book(clinic, patient, at(NEXT_TUESDAY, 9), frozen, booked_by=patient.user)  # the API, say

    said = attempt(door, client, clinic, patient, at(NEXT_TUESDAY, 14))

    assert "the most we take online" in said
    assert Appointment.objects.count() == 1
    with time_machine.travel(frozen.timestamp() + 3601, tick=False):
        attempt(door, client, clinic, patient, at(NEXT_TUESDAY, 14))
    assert Appointment.objects.count() == 2


# --- screening answers are validated ------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"no_such_question": "no"}, "is not one of the health questions"),
        ("too many", "Answer each question once"),
    ],
)
def test_the_api_refuses_answers_that_do_not_fit_the_questions_and_keeps_none(
    answers, message, clinic, patient, screening_rules, frozen
):
    if answers == "too many":
        answers = {f"q{n}": "no" for n in range(len(screening_rules) + 1)}
    api = APIClient()
    sign_in(api, patient.user)
    body = {
        "treatment": clinic["treatment"].slug,
        "location": clinic["location"].slug,
        "start": at(NEXT_TUESDAY, 10).isoformat(),
        "screening": [{"code": c, "yes": False} for c in answers],
    }

    response = api.post(f"{API}/appointments/", body, format="json")

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not ScreeningAnswer.objects.exists() and not Appointment.objects.exists()


# --- the race the services alone cannot close --------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint decides")
def test_six_simultaneous_confirms_of_one_patient_give_one_visit(clinic, patient, now):
    """Six clinics, each with its own room and aesthetician free at 10:00: only the patient
    can clash, and the database lets exactly one of the six bookings through."""
    places = [clinic] + [
        {
            **clinic,
            "location": (place := factories.LocationFactory(name=f"Clinic {n}")),
            "room": factories.RoomFactory(location=place, treatments=[clinic["treatment"]]),
            "provider": factories.ProviderFactory(
                locations=[place], treatments=[clinic["treatment"]]
            ),
        }
        for n in range(5)
    ]
    ready = threading.Barrier(len(places))
    outcomes = []

    def confirm(place):
        try:
            ready.wait()
            book(place, patient, at(NEXT_TUESDAY, 10), now, staff=True, provider=place["provider"])
            outcomes.append("booked")
        except services.BookingError as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(place,)) for place in places]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["PatientBusy"] * 5 + ["booked"]
    assert Appointment.objects.filter(patient=patient).active().count() == 1
