"""A real streaming replica (tests/replica.py): what reads from it, what never goes there.

Each test books on the primary through the services; the replica receives the rows by
PostgreSQL's asynchronous streaming replication, so a test that needs the replica stale pauses
its replay (pg_wal_replay_pause) and one that needs it current waits for it.
"""

import time
from datetime import date, datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import queries, services
from booking.models import Appointment, Location
from booking.routing import REPLICA, pinned_to_primary, reads_from_replica
from booking.services import slots
from portal.views import times
from tests import factories
from tests.helpers import NEW_YORK, at, book, sign_in

TUESDAY = date(2027, 3, 2)
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)
CONVERGE_WITHIN_SECONDS = 30


def free_starts_read_from_replica(clinic) -> set[datetime]:
    """Tuesday's free starts as the availability engine sees them through the replica."""
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connection) as on_primary,
        reads_from_replica(),
    ):
        schedules = queries.load_schedules(
            treatment=clinic["treatment"],
            location=clinic["location"],
            first_day=TUESDAY,
            last_day=TUESDAY,
        )
        starts = {slot.start for slot in schedules.free_slots(TUESDAY, TUESDAY, now=NOW)}
    assert len(on_replica) > 0
    assert len(on_primary) == 0
    return starts


def test_free_times_from_the_replica_converge_and_a_stale_one_is_never_double_booked(
    replica, clinic
):
    ten = at(TUESDAY, 10)
    replica.wait_for_replay()
    assert ten in free_starts_read_from_replica(clinic)

    replica.pause_replay()
    first = book(clinic, factories.PatientFactory(), ten, NOW)
    # The replica has not seen the booking: it still offers 10:00 to a second patient.
    assert ten in free_starts_read_from_replica(clinic)
    stale = next(
        slot
        for slot in times.free_slots(
            treatment=clinic["treatment"],
            location=clinic["location"],
            provider_id=None,
            first_day=TUESDAY,
            last_day=TUESDAY,
            now=NOW,
        )
        if slot.start == ten
    )
    second_patient = factories.PatientFactory()

    # The booking service decides on the primary, inside its transaction...
    with pytest.raises(services.SlotTaken, match="already taken"):
        book(clinic, second_patient, ten, NOW)
    # ...and a save that trusted the stale slot is refused by the exclusion constraint.
    clash = Appointment(
        patient=second_patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider_id=stale.provider_ids[0],
        room_id=stale.room_id,
    )
    clash.set_times(ten)
    with pytest.raises(services.SlotTaken, match="just taken"):
        slots.save_holding_time(clash)

    replica.resume_replay()
    started = time.monotonic()
    while ten in free_starts_read_from_replica(clinic):
        assert time.monotonic() - started < CONVERGE_WITHIN_SECONDS, "the replica never caught up"
        time.sleep(0.05)
    assert list(Appointment.objects.active().filter(start=ten)) == [first]


def test_writes_and_transactions_go_to_the_primary_and_the_replica_refuses_writes(
    replica, clinic, patient
):
    replica.wait_for_replay()
    location = clinic["location"]
    with reads_from_replica():
        assert router.db_for_read(Appointment) == REPLICA
        assert router.db_for_write(Appointment) == "default"
        assert Appointment.objects.select_for_update().db == "default"
        with transaction.atomic():
            assert router.db_for_read(Appointment) == "default"
        with pinned_to_primary():
            assert router.db_for_read(Appointment) == "default"

        # A whole booking inside reads_from_replica(): not one query reaches the replica.
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            appointment = book(clinic, patient, at(TUESDAY, 10), NOW)
        assert list(on_replica) == []

        # A row read from the replica is saved to the primary.
        from_replica = Location.objects.get(pk=location.pk)
        assert from_replica._state.db == REPLICA
        from_replica.name = "Midtown (renamed)"
        from_replica.save()
    assert router.db_for_read(Appointment) == "default"
    assert Location.objects.get(pk=location.pk).name == "Midtown (renamed)"
    assert Appointment.objects.get(pk=appointment.pk).is_active

    # The replica itself is read-only: a write there fails loudly.
    with pytest.raises(DatabaseError, match="read-only"):
        Location.objects.using(REPLICA).filter(pk=location.pk).update(name="Nowhere")
    with pytest.raises(DatabaseError, match="read-only"), connections[REPLICA].cursor() as cursor:
        cursor.execute("create table replica_write_probe (id int)")
    assert router.allow_migrate(REPLICA, "booking") is False
    assert router.allow_migrate("default", "booking") is not False


def test_the_desk_calendar_reads_the_replica_except_right_after_the_desk_wrote(
    replica, clinic, client, front_desk
):
    calendar = f"{reverse('desk:calendar')}?location={clinic['location'].slug}&date=2027-03-02"
    patient = factories.PatientFactory(first_name="Wren", last_name="Stale")
    other_desk = factories.UserFactory(username="desk2", groups=["Front desk"])
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        replica.wait_for_replay()
        replica.pause_replay()

        # The desk books by phone (a POST): the browser now reads from the primary.
        response = client.post(
            reverse("desk:book"),
            {
                "location": clinic["location"].slug,
                "treatment": clinic["treatment"].pk,
                "provider": clinic["provider"].pk,
                "patient": patient.pk,
                "date": "2027-03-02",
                "time": "10:00",
            },
        )
        assert response.status_code == 302
        assert "read_primary_until" in response.cookies
        assert "Wren Stale" in client.get(calendar).content.decode()

        # Another browser reads the (paused, stale) replica: no booking there yet.
        other = type(client)()
        sign_in(other, other_desk)
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert "Wren Stale" not in other.get(calendar).content.decode()
        assert any("booking_appointment" in query["sql"] for query in on_replica)

        replica.resume_replay()
        replica.wait_for_replay()
        assert "Wren Stale" in other.get(calendar).content.decode()
