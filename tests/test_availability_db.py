"""The availability engine fed from the database: fixed query counts, and every offered
time can really be booked, once."""

from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import availability, queries, services
from booking.models import WorkingHours
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

    with django_assert_num_queries(5):
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
        with django_assert_num_queries(5):
            first = _load(clinic, day, day)
        services.book_appointment(
            patient=factories.PatientFactory(),
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=datetime.combine(day, datetime.min.time(), NEW_YORK) + timedelta(hours=11),
            now=now,
        )
        with django_assert_num_queries(3):  # time off, visits and closed days only
            second = _load(clinic, day, day)
        with django_assert_num_queries(5):  # another aesthetician: read afresh
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

    with django_assert_num_queries(5):
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
