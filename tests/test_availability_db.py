"""The availability engine fed from the database: fixed query counts, and every offered
time can really be booked, once."""

from contextlib import contextmanager, suppress
from datetime import date, datetime, time, timedelta

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import availability, queries, services
from booking.models import (
    Appointment,
    BookingDraft,
    ClosedDay,
    Hold,
    Provider,
    WorkingHours,
)
from tests import factories
from tests.helpers import NEW_YORK


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Run a hypothesis example inside a savepoint that is always undone."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def _load(clinic, first_day, last_day):
    return queries.load_schedules(
        treatment=clinic["treatment"],
        location=clinic["location"],
        first_day=first_day,
        last_day=last_day,
    )


def _busy_clinic(clinic, providers: int, weeks: int, now):
    for _ in range(providers - 1):
        factories.ProviderFactory(locations=[clinic["location"]], treatments=[clinic["treatment"]])
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    patient = factories.PatientFactory()
    day = date(2027, 3, 2)
    for week in range(weeks):
        services.book_appointment(
            patient=patient,
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=datetime.combine(day + timedelta(weeks=week), datetime.min.time(), NEW_YORK)
            + timedelta(hours=11),
            now=now,
        )


@pytest.mark.parametrize(("providers", "weeks"), [(1, 1), (20, 1), (1, 6), (20, 6)])
def test_loading_schedules_takes_the_same_queries_whatever_the_size(
    clinic, now, providers, weeks, django_assert_num_queries
):
    _busy_clinic(clinic, providers, weeks, now)
    first_day = date(2027, 3, 2)

    with django_assert_num_queries(2):  # who works here and the rooms; everything busy
        schedules = _load(clinic, first_day, first_day + timedelta(weeks=weeks))

    assert len(schedules.providers) == providers
    assert sum(len(p.busy) for p in schedules.providers) == weeks


@contextmanager
def one_request():
    """The signals around a request, keeping the test's connection as the test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        signals.request_started.send(sender=None)
        yield
    finally:
        signals.request_finished.send(sender=None)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_a_request_reads_who_works_here_once_but_busy_time_every_time(
    clinic, now, django_assert_num_queries
):
    day = date(2027, 3, 2)
    with one_request():
        with django_assert_num_queries(2):
            first = _load(clinic, day, day)
        services.book_appointment(
            patient=factories.PatientFactory(),
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=datetime.combine(day, datetime.min.time(), NEW_YORK) + timedelta(hours=11),
            now=now,
        )
        with django_assert_num_queries(1):  # time off, visits, holds and closed days only
            second = _load(clinic, day, day)
        with django_assert_num_queries(2):  # another aesthetician: read afresh
            _load_one(clinic, day)

    assert second.providers[0].hours == first.providers[0].hours
    assert [len(p.busy) for p in first.providers] == [0]
    assert [len(p.busy) for p in second.providers] == [1]


def test_changed_hours_show_in_the_next_request_and_outside_requests_nothing_is_kept(
    clinic, django_assert_num_queries
):
    day = date(2027, 3, 2)
    with one_request():
        before = _load(clinic, day, day)
    WorkingHours.objects.filter(provider=clinic["provider"]).update(end_time="12:00")

    with django_assert_num_queries(2):
        outside = _load(clinic, day, day)
    with one_request():
        after = _load(clinic, day, day)

    assert {h.end.hour for h in before.providers[0].hours} == {17}
    assert {h.end.hour for h in outside.providers[0].hours} == {12}
    assert after.providers[0].hours == outside.providers[0].hours


def _load_one(clinic, day):
    return queries.load_schedules(
        treatment=clinic["treatment"],
        location=clinic["location"],
        first_day=day,
        last_day=day,
        provider_ids=[clinic["provider"].pk],
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_booking_any_offered_time_succeeds_exactly_once(clinic, now, data):
    day = date(2027, 3, 3)
    with rolled_back():
        second = factories.ProviderFactory(
            locations=[clinic["location"]], treatments=[clinic["treatment"]]
        )
        # Some visits already booked at random times, some of which will not fit.
        for _ in range(data.draw(st.integers(0, 6), label="existing visits")):
            quarter = data.draw(st.integers(0, 31), label="quarter hour")
            start = datetime.combine(day, datetime.min.time(), NEW_YORK) + timedelta(
                hours=9, minutes=15 * quarter
            )
            with suppress(services.BookingError):
                services.book_appointment(
                    patient=factories.PatientFactory(),
                    treatment=clinic["treatment"],
                    location=clinic["location"],
                    start=start,
                    now=now,
                    provider=data.draw(st.sampled_from([clinic["provider"], second])),
                )

        schedules = _load(clinic, day, day)
        slots = availability.free_slots(
            timing=schedules.timing,
            tz=schedules.tz,
            providers=schedules.providers,
            rooms=schedules.rooms,
            first_day=day,
            last_day=day,
            now=now,
            rules=schedules.rules,
        )
        if not slots:
            return
        slot = data.draw(st.sampled_from(slots), label="offered slot")
        provider = clinic["provider"] if slot.provider_id == clinic["provider"].pk else second

        booked = services.book_appointment(
            patient=factories.PatientFactory(),
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=slot.start,
            now=now,
            provider=provider,
        )
        assert booked.start == slot.start
        with pytest.raises(services.SlotTaken):
            services.book_appointment(
                patient=factories.PatientFactory(),
                treatment=clinic["treatment"],
                location=clinic["location"],
                start=slot.start,
                now=now,
                provider=provider,
            )


def _visit(clinic, start, *, provider, room, location=None, status="booked"):
    visit = Appointment(
        patient=factories.PatientFactory(),
        treatment=clinic["treatment"],
        location=location or clinic["location"],
        provider=provider,
        room=room,
        status=status,
    )
    visit.set_times(start)
    visit.save()
    return visit


def _hold(clinic, start, *, provider, room, draft, expires_at):
    draft_row, _ = BookingDraft.objects.get_or_create(token=draft, defaults={"updated_at": start})
    hold = Hold(
        draft=draft_row,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=provider,
        room=room,
        expires_at=expires_at,
    )
    hold.set_times(start)
    hold.save()
    return hold


def _comparable(schedules):
    return (
        [(p.provider_id, p.hours, sorted(p.busy)) for p in schedules.providers],
        [(r.room_id, sorted(r.busy)) for r in schedules.rooms],
        schedules.provider_names,
        schedules.closed_days,
    )


def test_postgresqls_written_out_reads_answer_as_the_orms_do(clinic, now, monkeypatch):
    """The SQL that load_schedules runs on PostgreSQL and the ORM reads it runs elsewhere see
    the same aestheticians, rooms, busy times and closed days."""
    here, treatment = clinic["location"], clinic["treatment"]
    provider, room = clinic["provider"], clinic["room"]
    second_room = factories.RoomFactory(location=here, treatments=[treatment])
    there = factories.LocationFactory(name="Midtown")
    room_there = factories.RoomFactory(location=there, treatments=[treatment])
    both = factories.ProviderFactory(locations=[here, there], treatments=[treatment])
    retired = factories.ProviderFactory(locations=[here], treatments=[treatment])
    Provider.objects.filter(pk=retired.pk).update(is_active=False)
    peel = factories.TreatmentFactory(name="Chemical peel")
    factories.ProviderFactory(locations=[here], treatments=[peel])
    factories.RoomFactory(location=here, treatments=[treatment], is_active=False)
    factories.RoomFactory(location=here, treatments=[peel])
    # Hours here without working here: not offered.
    outsider = factories.ProviderFactory(locations=[there], treatments=[treatment])
    WorkingHours.objects.create(
        provider=outsider, location=here, weekday=1, start_time=time(9), end_time=time(12)
    )
    day = date(2027, 3, 2)
    at = datetime.combine(day, time(), NEW_YORK)
    looking = now - timedelta(hours=1)
    _visit(clinic, at + timedelta(hours=9), provider=provider, room=room)
    _visit(clinic, at + timedelta(hours=14), provider=provider, room=room, status="cancelled")
    moved = _visit(clinic, at + timedelta(hours=11, minutes=30), provider=provider, room=room)
    _visit(clinic, at + timedelta(hours=14), provider=both, room=room_there, location=there)
    _visit(clinic, at + timedelta(days=20), provider=provider, room=room)  # out of range
    factories.TimeOffFactory(
        provider=both, start=at + timedelta(hours=12), end=at + timedelta(hours=13)
    )
    _hold(
        clinic, at + timedelta(hours=16), provider=both, room=second_room, draft="a", expires_at=now
    )
    _hold(
        clinic,
        at + timedelta(hours=16),
        provider=provider,
        room=room,
        draft="b",
        expires_at=looking - timedelta(minutes=1),
    )
    _hold(
        clinic,
        at + timedelta(hours=9),
        provider=both,
        room=second_room,
        draft="mine",
        expires_at=at,
    )
    ClosedDay.objects.create(location=here, date=day + timedelta(days=1), name="Holiday")
    ClosedDay.objects.create(location=there, date=day, name="Elsewhere")
    ClosedDay.objects.create(location=here, date=day + timedelta(days=30), name="Later")

    def load(**options):
        return _comparable(
            queries.load_schedules(
                treatment=treatment,
                location=here,
                first_day=day,
                last_day=day + timedelta(days=2),
                now=looking,
                **options,
            )
        )

    cases = [
        {},
        {"provider_ids": [both.pk]},
        {"provider_ids": [retired.pk]},
        {"exclude_appointment_id": moved.pk, "exclude_draft": "mine"},
    ]
    in_sql = [load(**options) for options in cases]
    monkeypatch.setattr(queries, "_staffing_rows_sql", queries._staffing_rows_orm)
    monkeypatch.setattr(queries, "_busy_rows_sql", queries._busy_rows_orm)
    assert in_sql == [load(**options) for options in cases]

    everyone, just_both, nobody, excluding = in_sql
    busy = {pk: len(spans) for pk, _, spans in everyone[0]}
    assert busy == {provider.pk: 2, both.pk: 4}  # both: elsewhere, time off, two live holds
    assert [pk for pk, _ in everyone[1]] == sorted([room.pk, second_room.pk])
    assert [len(spans) for _, spans in everyone[1]] == [2, 2]
    assert everyone[3] == {day + timedelta(days=1): "Holiday"}
    assert [pk for pk, _, _ in just_both[0]] == [both.pk]
    assert nobody[0] == [] and nobody[2] == {}
    assert {pk: len(spans) for pk, _, spans in excluding[0]} == {provider.pk: 1, both.pk: 3}
