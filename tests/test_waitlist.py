"""The waitlist: a freed time is offered through the outbox, most urgent patient first."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.models import TreatmentPlan, WaitlistEntry
from booking.services import waitlist
from notifications.models import Notification
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)
TUESDAY = date(2027, 3, 2)


def book(clinic, patient, start, now=NOW, **kwargs):
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=now,
        staff=True,
        **kwargs,
    )


def wait(clinic, patient, *, created, provider=None, first=TUESDAY, last=TUESDAY + timedelta(7)):
    return WaitlistEntry.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=provider,
        earliest_date=first,
        latest_date=last,
        created_at=created,
    )


def test_a_cancellation_offers_the_time_to_who_waited_longest(clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    newer = wait(clinic, factories.PatientFactory(), created=NOW - timedelta(days=1))
    older = wait(clinic, factories.PatientFactory(), created=NOW - timedelta(days=5))

    services.cancel_appointment(appointment=appointment, now=NOW, reason="Ill", staff=True)

    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == "offered" and older.offered_start == at(TUESDAY, 10)
    assert newer.status == "waiting"
    offers = Notification.objects.filter(kind="waitlist_offer")
    assert offers and {offer.patient for offer in offers} == {older.patient}


def test_a_patient_whose_session_window_closes_soonest_comes_first(clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    long_waiting = wait(clinic, factories.PatientFactory(), created=NOW - timedelta(days=30))
    in_a_plan = factories.PatientFactory()
    plan = TreatmentPlan.objects.create(
        patient=in_a_plan,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 1, 25),
    )
    book(
        clinic,
        in_a_plan,
        at(date(2027, 1, 25), 10),
        plan=plan,
        session_number=1,
        now=at(date(2027, 1, 4), 8),
    )
    urgent = wait(clinic, in_a_plan, created=NOW)

    matches = waitlist.matching(
        location_id=clinic["location"].pk,
        treatment_id=clinic["treatment"].pk,
        provider_id=clinic["provider"].pk,
        start=at(TUESDAY, 10),
        tz=NEW_YORK,
    )
    assert [m.entry for m in matches] == [urgent, long_waiting]
    assert matches[0].window_closes == date(2027, 3, 8)

    services.cancel_appointment(appointment=appointment, now=NOW, staff=True)

    urgent.refresh_from_db()
    assert urgent.status == "offered"


def test_only_matching_entries_are_offered(clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    other_aesthetician = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    wrong_days = wait(clinic, factories.PatientFactory(), created=NOW, first=TUESDAY + timedelta(1))
    wrong_person = wait(
        clinic, factories.PatientFactory(), created=NOW, provider=other_aesthetician
    )
    own = wait(clinic, patient, created=NOW - timedelta(days=9))

    services.cancel_appointment(appointment=appointment, now=NOW, staff=True)

    for entry in (wrong_days, wrong_person, own):
        entry.refresh_from_db()
        assert entry.status == "waiting"
    assert not Notification.objects.filter(kind="waitlist_offer").exists()


def test_moving_a_visit_away_offers_its_old_time(clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    waiting = wait(clinic, factories.PatientFactory(), created=NOW)

    services.reschedule_appointment(
        appointment=appointment, start=at(TUESDAY, 14), now=NOW, staff=True
    )

    waiting.refresh_from_db()
    assert waiting.offered_start == at(TUESDAY, 10)


def test_a_past_time_is_not_offered(clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    waiting = wait(clinic, factories.PatientFactory(), created=NOW)

    services.cancel_appointment(appointment=appointment, now=at(TUESDAY, 11), staff=True)

    waiting.refresh_from_db()
    assert waiting.status == "waiting"


@pytest.fixture
def desk(client, front_desk):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        yield client


def test_the_desk_adds_a_patient_to_the_waitlist(desk, clinic, patient):
    response = desk.post(
        reverse("desk:waitlist"),
        {
            "patient": patient.pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "earliest_date": "2027-03-02",
            "latest_date": "2027-03-09",
        },
    )

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.patient == patient
    assert desk.get(reverse("desk:waitlist")).content.decode().count(patient.full_name) >= 1


def test_the_desk_sees_who_wants_a_cancelled_time_and_offers_it(desk, clinic, patient):
    appointment = book(clinic, patient, at(TUESDAY, 10))
    first = wait(clinic, factories.PatientFactory(), created=NOW - timedelta(days=3))
    second = wait(clinic, factories.PatientFactory(), created=NOW - timedelta(days=1))
    desk.post(reverse("desk:appointment_cancel", args=[appointment.pk]), {"reason": "Ill"})

    page = desk.get(reverse("desk:appointment", args=[appointment.pk]))

    html = page.content.decode()
    assert "Waitlist for this time" in html
    assert "Offered to" in html and second.patient.full_name in html
    desk.post(
        reverse("desk:waitlist_update", args=[second.pk]),
        {"action": "offer", "start": appointment.start.isoformat()},
    )
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, second.status) == ("offered", "offered")


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (at(date(2027, 2, 26), 10), "already passed"),
        (at(TUESDAY, 22), "outside the aesthetician"),
        (at(TUESDAY, 10), "already taken"),
    ],
)
def test_only_a_real_free_time_in_the_future_can_be_offered(clinic, patient, start, reason):
    book(clinic, factories.PatientFactory(), at(TUESDAY, 10))
    entry = wait(clinic, patient, created=NOW - timedelta(days=1))

    with pytest.raises(services.BookingError, match=reason):
        waitlist.offer(entry, start=start, now=NOW, actor=factories.UserFactory())

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    assert not Notification.objects.filter(kind="waitlist_offer").exists()


def test_the_desk_is_told_why_a_time_cannot_be_offered(desk, clinic, patient):
    entry = wait(clinic, patient, created=NOW - timedelta(days=1))

    response = desk.post(
        reverse("desk:waitlist_update", args=[entry.pk]),
        {"action": "offer", "start": at(TUESDAY, 22).isoformat()},
        follow=True,
    )

    assert "That time cannot be offered" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
