"""A live hold and an active appointment never keep one aesthetician or room at once, and
PostgreSQL decides it (triggers of booking migration 0019), whichever door books: the desk,
the API, the admin, another patient, or a raw ORM write."""

import functools
import threading
import time
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking import services
from booking.models import Appointment, Hold
from booking.services.slots import save_holding_time
from tests import factories
from tests.helpers import at, book

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL triggers and advisory locks"
)

TUESDAY = date(2027, 3, 2)


def _hold(clinic, start, now, draft=None):
    return services.hold_time(
        draft=draft or services.new_draft(data={}, now=now),
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=None,
        start=start,
        now=now,
    )


def _visit(clinic, patient, start, **kwargs):
    """An unsaved active visit of the clinic's treatment, times set as the services set them."""
    visit = Appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=kwargs.get("provider", clinic["provider"]),
        room=kwargs.get("room", clinic["room"]),
    )
    visit.set_times(start)
    return visit


def _raw_hold(clinic, start, expires_at, **kwargs):
    """An unsaved hold written without the service's checks."""
    visit = _visit(clinic, factories.PatientFactory.build(), start, **kwargs)
    return Hold(
        draft=services.new_draft(data={}, now=timezone.now()),
        treatment=visit.treatment,
        location=visit.location,
        provider=visit.provider,
        room=visit.room,
        start=visit.start,
        end=visit.end,
        provider_start=visit.provider_start,
        held_until=visit.held_until,
        expires_at=expires_at,
    )


def test_the_desk_cannot_book_a_time_another_patient_holds(clinic, patient, now):
    _hold(clinic, at(TUESDAY, 10), now)

    with pytest.raises(services.SlotTaken, match="already taken"):
        book(clinic, patient, at(TUESDAY, 10), now, staff=True)
    assert not Appointment.objects.exists()


def test_the_database_refuses_a_visit_over_a_live_hold_even_past_the_services(clinic, patient, now):
    _hold(clinic, at(TUESDAY, 10), now)

    # A raw ORM insert: no availability check at all, the trigger refuses it.
    with pytest.raises(IntegrityError, match="appointment_not_held_online"), transaction.atomic():
        _visit(clinic, patient, at(TUESDAY, 10)).save()
    # The services' save maps it to the usual refusal (the admin saves through it).
    with pytest.raises(services.SlotTaken, match="just taken"):
        save_holding_time(_visit(clinic, patient, at(TUESDAY, 11)))  # the cleanup runs to 11:45
    # Once the hold's cleanup is over, the same aesthetician and room are free again.
    save_holding_time(_visit(clinic, patient, at(TUESDAY, 11, 45)))
    assert Appointment.objects.get().start == at(TUESDAY, 11, 45)


def test_a_cancelled_visit_cannot_come_back_over_a_hold(clinic, patient, now):
    visit = book(clinic, patient, at(TUESDAY, 10), now, staff=True)
    Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CANCELLED)
    _hold(clinic, at(TUESDAY, 10), now)

    with pytest.raises(IntegrityError, match="appointment_not_held_online"), transaction.atomic():
        Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.BOOKED)
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CANCELLED


def test_a_hold_on_a_booked_time_is_refused(clinic, patient, now):
    book(clinic, patient, at(TUESDAY, 10), now, staff=True)

    with pytest.raises(services.SlotTaken, match="taken"):
        _hold(clinic, at(TUESDAY, 10, 30), now)
    with pytest.raises(IntegrityError, match="hold_not_booked"), transaction.atomic():
        _raw_hold(clinic, at(TUESDAY, 11), now + timedelta(minutes=10)).save()
    assert not Hold.objects.exists()


def test_an_expired_hold_does_not_block_a_booking(clinic, patient, now):
    # Expired by the database's clock (the trigger's now()), left behind before a sweep.
    _raw_hold(clinic, at(TUESDAY, 10), timezone.now() - timedelta(minutes=1)).save()

    visit = _visit(clinic, patient, at(TUESDAY, 10))
    visit.save()  # no service, no sweep: the database itself lets it through
    assert Appointment.objects.get().start == at(TUESDAY, 10)


def test_the_patients_own_hold_turns_into_their_booking(clinic, patient, now):
    draft = services.new_draft(data={}, now=now)
    _hold(clinic, at(TUESDAY, 10), now, draft=draft)

    with services.booking_from_draft(draft):
        visit = book(clinic, patient, at(TUESDAY, 10), now)

    assert visit.start == at(TUESDAY, 10)
    assert not Hold.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_booking_waits_for_an_uncommitted_hold_and_is_then_refused(clinic, patient, now):
    """The advisory locks: without them the booking would not see the hold, still uncommitted
    when it checks, and both would commit."""
    held, results = threading.Event(), []

    def hold_and_commit_late():
        try:
            with transaction.atomic():
                _raw_hold(clinic, at(TUESDAY, 10), now + timedelta(minutes=10)).save()
                held.set()
                time.sleep(0.5)
        finally:
            connection.close()

    def book_meanwhile():
        try:
            held.wait(5)
            save_holding_time(_visit(clinic, patient, at(TUESDAY, 10)))
            results.append("booked")
        except services.SlotTaken:
            results.append("taken")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=hold_and_commit_late),
        threading.Thread(target=book_meanwhile),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["taken"]
    assert Hold.objects.count() == 1
    assert not Appointment.objects.exists()


def _race(*actions) -> list[str]:
    """Run `actions` in threads released together; "won" or "taken" for each."""
    barrier, outcomes = threading.Barrier(len(actions)), []

    def attempt(action):
        try:
            barrier.wait()
            action()
            outcomes.append("won")
        except services.SlotTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_a_hold_and_a_desk_booking_racing_for_one_slot_one_wins(clinic, patient, now):
    """Through the real services, started together, on three slots: each time one wins."""
    for start in (at(TUESDAY, 10), at(TUESDAY, 13), at(TUESDAY, 15)):
        outcomes = _race(
            functools.partial(_hold, clinic, start, now),
            functools.partial(book, clinic, patient, start, now, staff=True),
        )

        assert outcomes == ["taken", "won"], start
        kept = Hold.objects.filter(start=start).count()
        assert kept + Appointment.objects.filter(start=start).count() == 1
