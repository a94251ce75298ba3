"""Holds: a picked time is kept for the patient while they finish booking
(booking.services.holds), in availability and in the database."""

import threading
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from booking import queries, services
from booking.models import Hold
from tests import factories
from tests.helpers import at, book

TUESDAY = date(2027, 3, 2)


def _draft(now):
    return services.new_draft(data={}, now=now)


def _hold(clinic, draft, start, now, provider=None):
    return services.hold_time(
        draft=draft,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=provider,
        start=start,
        now=now,
    )


def _free_starts(clinic, now, **kwargs):
    schedules = queries.load_schedules(
        treatment=clinic["treatment"],
        location=clinic["location"],
        first_day=TUESDAY,
        last_day=TUESDAY,
        now=now,
        **kwargs,
    )
    return {slot.start for slot in schedules.free_slots(TUESDAY, TUESDAY, now=now)}


def test_a_hold_keeps_the_room_and_aesthetician_with_numbing_and_cleanup(clinic, now):
    hold = _hold(clinic, _draft(now), at(TUESDAY, 10), now)

    assert hold.provider == clinic["provider"]
    assert hold.room == clinic["room"]
    assert hold.provider_start == at(TUESDAY, 10, 30)  # numbing: the room only
    assert hold.held_until == at(TUESDAY, 11, 45)  # cleanup included
    assert hold.expires_at == now + timedelta(minutes=10)


def test_availability_leaves_out_a_held_time_except_for_its_own_draft(clinic, now):
    draft = _draft(now)
    assert at(TUESDAY, 10) in _free_starts(clinic, now)
    _hold(clinic, draft, at(TUESDAY, 10), now)

    assert at(TUESDAY, 10) not in _free_starts(clinic, now)
    assert at(TUESDAY, 11) not in _free_starts(clinic, now)  # the cleanup runs to 11:45
    assert at(TUESDAY, 10) in _free_starts(clinic, now, exclude_draft=draft.pk)


def test_someone_else_cannot_book_or_hold_a_held_time(clinic, patient, now):
    _hold(clinic, _draft(now), at(TUESDAY, 10), now)

    with pytest.raises(services.SlotTaken):
        book(clinic, patient, at(TUESDAY, 10), now)
    with pytest.raises(services.SlotTaken):
        _hold(clinic, _draft(now), at(TUESDAY, 10, 30), now)


def test_an_expired_hold_frees_the_slot(clinic, patient, now):
    _hold(clinic, _draft(now), at(TUESDAY, 10), now)
    later = now + timedelta(minutes=10)

    assert at(TUESDAY, 10) in _free_starts(clinic, later)
    other = _hold(clinic, _draft(later), at(TUESDAY, 10), later)  # the old one is deleted
    assert list(Hold.objects.all()) == [other]


def test_choosing_another_time_releases_the_first(clinic, now):
    draft = _draft(now)
    _hold(clinic, draft, at(TUESDAY, 10), now)
    _hold(clinic, draft, at(TUESDAY, 13), now)

    assert at(TUESDAY, 10) in _free_starts(clinic, now)
    assert Hold.objects.get().start == at(TUESDAY, 13)
    services.release_holds(draft)
    assert at(TUESDAY, 13) in _free_starts(clinic, now)


def test_booking_from_a_draft_turns_its_hold_into_the_visit(clinic, patient, now):
    draft = _draft(now)
    _hold(clinic, draft, at(TUESDAY, 10), now)

    with services.booking_from_draft(draft):
        visit = book(clinic, patient, at(TUESDAY, 10), now)

    assert visit.start == at(TUESDAY, 10)
    assert not Hold.objects.exists()


def test_a_refused_booking_keeps_the_hold(clinic, patient, now):
    draft = _draft(now)
    _hold(clinic, draft, at(TUESDAY, 10), now)
    book(clinic, factories.PatientFactory(), at(TUESDAY, 13), now)

    with pytest.raises(services.SlotTaken), services.booking_from_draft(draft):
        book(clinic, patient, at(TUESDAY, 13), now)
    assert Hold.objects.filter(draft=draft).exists()


def test_the_sweep_deletes_expired_holds_and_old_drafts(clinic, now):
    _hold(clinic, _draft(now), at(TUESDAY, 10), now)
    kept = _draft(now + timedelta(days=2))

    assert services.sweep_expired(now=now + timedelta(days=3)) == (1, 1)
    assert [h for h in Hold.objects.all()] == []
    assert kept.pk in {d.pk for d in type(kept).objects.all()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints")
def test_the_database_refuses_two_holds_on_one_aesthetician(clinic, now):
    first = _hold(clinic, _draft(now), at(TUESDAY, 10), now)
    clash = Hold(
        draft=_draft(now),
        treatment=first.treatment,
        location=first.location,
        provider=first.provider,
        room=factories.RoomFactory(location=first.location),
        start=first.start,
        end=first.end,
        provider_start=first.provider_start,
        held_until=first.held_until,
        expires_at=first.expires_at,
    )
    with pytest.raises(IntegrityError, match="hold_provider_no_overlap"), transaction.atomic():
        clash.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints")
def test_two_drafts_racing_for_one_slot_one_wins(clinic, now):
    drafts = [_draft(now) for _ in range(4)]
    barrier = threading.Barrier(len(drafts))
    outcomes = []

    def pick(draft):
        try:
            barrier.wait()
            _hold(clinic, draft, at(TUESDAY, 10), now)
            outcomes.append("held")
        except services.SlotTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=pick, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["held"] + ["taken"] * 3
    assert Hold.objects.count() == 1


def test_the_periodic_task_sweeps_expired_holds(clinic, now):
    import time_machine

    from booking.tasks import sweep_expired_holds

    _hold(clinic, _draft(now), at(TUESDAY, 10), now)
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        assert sweep_expired_holds() == {"holds": 1, "drafts": 0}
    assert not Hold.objects.exists()
