"""Database reads that feed the pure availability engine, in a fixed number of queries.

The parts of a load that do not change while a request runs (who performs the treatment here,
their hours and names, the rooms that can host it) are kept for the rest of that request, so
a page that looks for free times more than once (check the chosen time, book it, suggest times
nearby) reads them once. Busy time is always read afresh. Outside a request (tasks, shell,
tests calling services) nothing is kept.
"""

from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.signals import request_finished, request_started
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Func, Q
from django.utils import timezone

from booking import availability
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    ClosedDay,
    Hold,
    Location,
    Provider,
    Room,
    ScreeningAnswer,
    TimeOff,
    WorkingHours,
)
from treatments.models import Treatment


class Epoch(Func):
    """A datetime column as whole seconds since 1970, computed by the database: parsing
    thousands of timestamps into datetimes only to turn them back into numbers is most of the
    cost, and integers read faster than floats.

    A busy start is rounded down and a busy end up (``end=True``). That changes no answer: the
    engine's candidate starts are whole seconds, and for whole numbers ``s < e`` exactly when
    ``s < ceil(e)`` and ``s > b`` exactly when ``s > floor(b)``; the database's check
    constraints keep every loaded interval non-empty, so none becomes busy by rounding.
    (SQLite's julianday() is about a millisecond exact: there the value is rounded.)

    PostgreSQL's date_part() gives a double, four times cheaper than EXTRACT's numeric; for
    instants in microseconds within a few centuries of 1970 a double is off by under half a
    microsecond, so rounding it down or up lands on the same whole second as exact arithmetic.
    """

    output_field = BigIntegerField()

    def __init__(self, expression, *, end: bool = False) -> None:
        super().__init__(expression)
        self.rounding = "CEIL" if end else "FLOOR"

    def get_db_converters(self, connection):
        # The database already returns an integer: skip a Python call per value.
        return []

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=f"{self.rounding}(date_part('epoch', %(expressions)s))::bigint",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0) AS INTEGER)",
            **extra,
        )


@dataclass(frozen=True)
class Schedules:
    """Everything the availability engine needs for one treatment at one location."""

    timing: availability.Timing
    tz: ZoneInfo
    rules: availability.Rules
    providers: tuple[availability.ProviderSchedule, ...]
    rooms: tuple[availability.RoomSchedule, ...]
    provider_names: dict[int, str]
    # Local days the location is closed (holidays), with their names: no working hours then.
    closed_days: dict[date, str] = field(default_factory=dict)

    def provider(self, provider_id: int) -> availability.ProviderSchedule | None:
        return next((p for p in self.providers if p.provider_id == provider_id), None)

    def free_slots(
        self,
        first_day: date,
        last_day: date,
        *,
        now: datetime,
        rules: availability.Rules | None = None,
    ) -> list[availability.Slot]:
        """Free starts over these local days, under the location's rules unless others are
        given (staff rules, a course's longer horizon)."""
        return availability.free_slots(
            timing=self.timing,
            tz=self.tz,
            providers=self.providers,
            rooms=self.rooms,
            first_day=first_day,
            last_day=last_day,
            now=now,
            rules=self.rules if rules is None else rules,
            closed_days=self.closed_days,
        )

    def free_times(
        self,
        first_day: date,
        last_day: date,
        *,
        now: datetime,
        rules: availability.Rules | None = None,
    ) -> list[availability.FreeTime]:
        """Distinct free starts over these local days, each with the aestheticians free then."""
        return availability.free_times(
            timing=self.timing,
            tz=self.tz,
            providers=self.providers,
            rooms=self.rooms,
            first_day=first_day,
            last_day=last_day,
            now=now,
            rules=self.rules if rules is None else rules,
            closed_days=self.closed_days,
        )


@dataclass(frozen=True)
class _Staffing:
    """Who performs a treatment at a location, with their hours and names, and its rooms."""

    names: dict[int, str]
    hours: dict[int, tuple[availability.WeeklyHours, ...]]
    room_ids: tuple[int, ...]


_StaffingKey = tuple[int, int, tuple[int, ...] | None]
_staffing_this_request: ContextVar[dict[_StaffingKey, _Staffing] | None] = ContextVar(
    "staffing_this_request", default=None
)


def _keep_staffing_for_this_request(**kwargs) -> None:
    _staffing_this_request.set({})


def _forget_staffing(**kwargs) -> None:
    _staffing_this_request.set(None)


request_started.connect(_keep_staffing_for_this_request, dispatch_uid="booking.queries.staffing")
request_finished.connect(_forget_staffing, dispatch_uid="booking.queries.staffing")


def _staffing(
    treatment: Treatment, location: Location, provider_ids: list[int] | None
) -> _Staffing:
    """One query, or none when this request already read them."""
    kept = _staffing_this_request.get()
    key = (treatment.pk, location.pk, None if provider_ids is None else tuple(provider_ids))
    if kept is not None and key in kept:
        return kept[key]
    connection = _reading(WorkingHours)
    if connection.vendor == "postgresql":
        hour_rows, room_ids = _staffing_rows_sql(connection, treatment, location, provider_ids)
    else:
        hour_rows, room_ids = _staffing_rows_orm(connection, treatment, location, provider_ids)
    hours: dict[int, list[availability.WeeklyHours]] = defaultdict(list)
    names: dict[int, str] = {}
    for provider_id, name, weekday, opens, closes in hour_rows:
        names[provider_id] = name
        hours[provider_id].append(availability.WeeklyHours(weekday, opens, closes))
    staffing = _Staffing(
        names=names, hours={pk: tuple(blocks) for pk, blocks in hours.items()}, room_ids=room_ids
    )
    if kept is not None:
        kept[key] = staffing
    return staffing


def _reading(model: type) -> BaseDatabaseWrapper:
    """The connection the router picks to read `model` (the replica when asked for)."""
    return connections[router.db_for_read(model)]


# Availability is the hottest read there is, and on PostgreSQL it is written out in SQL: the
# ORM spends about half a millisecond building and compiling each query, more than the database
# takes to answer it. The _orm functions are the same reads for other databases (SQLite for
# `make run`); tests/test_availability_db.py checks that both give the same answers.
# Who performs the treatment here (an aesthetician with no hours here has no free time here
# either), with their hours in display order; then the rooms that can host it, by id. The
# ARRAY(...) subqueries are planned alone: as joins, planning took longer than running it.
_STAFFING_SQL = """
SELECT 0 AS part, wh.provider_id AS id, p.display_name, wh.weekday, wh.start_time, wh.end_time
FROM booking_workinghours wh
JOIN booking_provider p ON p.id = wh.provider_id
WHERE wh.location_id = %(location)s
  AND p.is_active
  AND wh.provider_id = ANY(ARRAY(
    SELECT provider_id FROM booking_provider_locations WHERE location_id = %(location)s
    INTERSECT
    SELECT provider_id FROM booking_provider_treatments WHERE treatment_id = %(treatment)s
  ))
  AND (%(everyone)s OR p.id = ANY(%(providers)s::bigint[]))
UNION ALL
SELECT 1, r.id, NULL, NULL, NULL, NULL
FROM booking_room r
WHERE r.location_id = %(location)s
  AND r.is_active
  AND r.id = ANY(ARRAY(
    SELECT room_id FROM booking_room_treatments WHERE treatment_id = %(treatment)s
  ))
ORDER BY part, display_name, id, weekday, start_time
"""


def _staffing_rows_sql(connection, treatment, location, provider_ids):
    with connection.cursor() as cursor:
        cursor.execute(
            _STAFFING_SQL,
            {
                "location": location.pk,
                "treatment": treatment.pk,
                "everyone": provider_ids is None,
                "providers": list(provider_ids or ()),
            },
        )
        rows = cursor.fetchall()
    hour_rows = [row[1:] for row in rows if row[0] == 0]
    return hour_rows, tuple(row[1] for row in rows if row[0] == 1)


def _staffing_rows_orm(connection, treatment, location, provider_ids):
    performing = Provider.objects.using(connection.alias).performing(treatment, location)
    if provider_ids is not None:
        performing = performing.filter(pk__in=provider_ids)
    hour_rows = list(
        WorkingHours.objects.using(connection.alias)
        .filter(location=location, provider__in=performing)
        .order_by("provider__display_name", "provider_id", "weekday", "start_time")
        .values_list("provider_id", "provider__display_name", "weekday", "start_time", "end_time")
    )
    room_ids = tuple(
        Room.objects.using(connection.alias)
        .filter(location=location, treatments=treatment, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return hour_rows, room_ids


def timing_of(treatment: Treatment) -> availability.Timing:
    return availability.Timing(
        duration_minutes=treatment.duration_minutes,
        numbing_minutes=treatment.numbing_minutes,
        cleanup_minutes=treatment.cleanup_minutes,
    )


def rules_of(location: Location) -> availability.Rules:
    return availability.Rules(
        step_minutes=location.slot_step_minutes,
        min_notice_minutes=location.min_notice_minutes,
        horizon_days=location.booking_horizon_days,
    )


def local_day_bounds(tz: ZoneInfo, first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """UTC-comparable instants covering the local days first_day..last_day, padded by a day
    either side so that held intervals reaching across midnight are loaded too."""
    start = datetime.combine(first_day - timedelta(days=1), time.min, tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=2), time.min, tzinfo=tz)
    return start, end


def load_schedules(
    *,
    treatment: Treatment,
    location: Location,
    first_day: date,
    last_day: date,
    provider_ids: list[int] | None = None,
    exclude_appointment_id: int | None = None,
    now: datetime | None = None,
    exclude_draft: str | None = None,
) -> Schedules:
    """Two queries on PostgreSQL (elsewhere five), whatever the number of providers, rooms,
    days or appointments; one (elsewhere three) when this request already loaded this
    treatment at this location.

    Busy: time off, active appointments and the holds (booking.models.Hold) not expired at
    `now` (default: the current time); `exclude_draft` leaves out the holds of that draft (a
    patient does not compete with their own hold)."""
    tz = location.zone
    start, end = local_day_bounds(tz, first_day, last_day)
    staffing = _staffing(treatment, location, provider_ids)
    names, ids, room_ids = staffing.names, list(staffing.names), staffing.room_ids
    busy = _BusyQuery(
        provider_ids=ids,
        room_ids=list(room_ids),
        location_id=location.pk,
        start=start,
        end=end,
        now=now or timezone.now(),
        exclude_appointment_id=exclude_appointment_id,
        exclude_draft=exclude_draft or "",
    )
    connection = _reading(Appointment)
    if connection.vendor == "postgresql":
        rows = _busy_rows_sql(connection, busy)
    else:
        rows = _busy_rows_orm(connection, busy)

    # Busy spans go to the engine as epoch seconds: thousands of rows, already instants.
    provider_busy: dict[int, list[availability.EpochSpan]] = defaultdict(list)
    room_busy: dict[int, list[availability.EpochSpan]] = defaultdict(list)
    closed_days: dict[date, str] = {}
    for part, provider_id, room_id, begins, provider_begins, until, name in rows:
        if part == _HELD:
            provider_busy[provider_id].append((provider_begins, until))
            room_busy[room_id].append((begins, until))
        elif part == _TIME_OFF:
            provider_busy[provider_id].append((begins, until))
        else:
            closed_days[date.fromordinal(_EPOCH_ORDINAL + begins)] = name

    return Schedules(
        timing=timing_of(treatment),
        tz=tz,
        rules=rules_of(location),
        providers=tuple(
            availability.ProviderSchedule(
                provider_id=pk, hours=staffing.hours[pk], busy=tuple(provider_busy[pk])
            )
            for pk in ids
        ),
        rooms=tuple(
            availability.RoomSchedule(room_id=r, busy=tuple(room_busy[r])) for r in room_ids
        ),
        provider_names=dict(names),
        closed_days=closed_days,
    )


@dataclass(frozen=True)
class _BusyQuery:
    """What load_schedules reads busy time for: instants [start, end) padded as
    local_day_bounds does, and the closed days of the local dates in between."""

    provider_ids: list[int]
    room_ids: list[int]
    location_id: int
    start: datetime
    end: datetime
    now: datetime
    exclude_appointment_id: int | None
    exclude_draft: str


# Rows of (part, provider, room, start, provider_start, held_until, name): part _TIME_OFF is time
# off (no room; its start twice), _HELD an active visit or a live hold, _CLOSED a closed day
# (its date as days since 1970 in `start`, and its name). Times in epoch seconds, rounded as
# Epoch explains.
_TIME_OFF, _HELD, _CLOSED = 0, 1, 2
_BusyRow = tuple[Any, ...]  # (int, int | None, int | None, int, int | None, int | None, str | None)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

_BUSY_SQL = """
SELECT 0, provider_id, NULL::bigint, FLOOR(date_part('epoch', start))::bigint,
       FLOOR(date_part('epoch', start))::bigint, CEIL(date_part('epoch', "end"))::bigint, NULL
FROM booking_timeoff
WHERE provider_id = ANY(%(providers)s::bigint[]) AND start < %(end)s AND "end" > %(start)s
UNION ALL
SELECT 1, provider_id, room_id, FLOOR(date_part('epoch', start))::bigint,
       FLOOR(date_part('epoch', provider_start))::bigint,
       CEIL(date_part('epoch', held_until))::bigint, NULL
FROM booking_appointment
WHERE status = ANY(%(active)s::varchar[])
  AND (provider_id = ANY(%(providers)s::bigint[]) OR room_id = ANY(%(rooms)s::bigint[]))
  AND start < %(end)s AND held_until > %(start)s
  AND (%(appointment)s::bigint IS NULL OR id <> %(appointment)s::bigint)
UNION ALL
SELECT 1, provider_id, room_id, FLOOR(date_part('epoch', start))::bigint,
       FLOOR(date_part('epoch', provider_start))::bigint,
       CEIL(date_part('epoch', held_until))::bigint, NULL
FROM booking_hold
WHERE (provider_id = ANY(%(providers)s::bigint[]) OR room_id = ANY(%(rooms)s::bigint[]))
  AND start < %(end)s AND held_until > %(start)s
  AND expires_at > %(now)s AND draft_id <> %(draft)s
UNION ALL
SELECT 2, NULL, NULL, date - DATE '1970-01-01', NULL, NULL, name
FROM booking_closedday
WHERE location_id = %(location)s AND date >= %(first_date)s AND date < %(end_date)s
"""


def _busy_rows_sql(connection, busy: _BusyQuery) -> list[_BusyRow]:
    with connection.cursor() as cursor:
        cursor.execute(
            _BUSY_SQL,
            {
                "active": [status.value for status in ACTIVE_STATUSES],
                "providers": busy.provider_ids,
                "rooms": busy.room_ids,
                "location": busy.location_id,
                "start": busy.start,
                "end": busy.end,
                "now": busy.now,
                "appointment": busy.exclude_appointment_id,
                "draft": busy.exclude_draft,
                # The padded bounds' days too: a local day's instants can reach into the next
                # UTC date.
                "first_date": busy.start.date(),
                "end_date": busy.end.date(),
            },
        )
        return cursor.fetchall()


def _busy_rows_orm(connection, busy: _BusyQuery) -> list[_BusyRow]:
    using, ids, room_ids = connection.alias, busy.provider_ids, busy.room_ids
    start, end = busy.start, busy.end
    time_off = list(
        TimeOff.objects.using(using)
        .filter(provider_id__in=ids, start__lt=end, end__gt=start)
        .order_by()
        .values_list("provider_id", Epoch("start"), Epoch("end", end=True))
    )
    held = (
        Appointment.objects.using(using)
        .active()
        .filter(
            Q(provider_id__in=ids) | Q(room_id__in=room_ids), start__lt=end, held_until__gt=start
        )
        .order_by()  # the engine sorts
        .values_list(
            "provider_id",
            "room_id",
            Epoch("start"),
            Epoch("provider_start"),
            Epoch("held_until", end=True),
        )
    )
    if busy.exclude_appointment_id is not None:
        held = held.exclude(pk=busy.exclude_appointment_id)
    holds = (
        Hold.objects.using(using)
        .filter(
            Q(provider_id__in=ids) | Q(room_id__in=room_ids),
            start__lt=end,
            held_until__gt=start,
            expires_at__gt=busy.now,
        )
        .exclude(draft_id=busy.exclude_draft)
        .order_by()
        .values_list(
            "provider_id",
            "room_id",
            Epoch("start"),
            Epoch("provider_start"),
            Epoch("held_until", end=True),
        )
    )
    closed_days = dict(
        ClosedDay.objects.using(using)
        .filter(location_id=busy.location_id, date__gte=start.date(), date__lt=end.date())
        .values_list("date", "name")
    )
    return [
        *(
            (_TIME_OFF, provider_id, None, begins, begins, until, None)
            for provider_id, begins, until in time_off
        ),
        *((_HELD, *row, None) for row in held.union(holds, all=True)),
        *(
            (_CLOSED, None, None, day.toordinal() - _EPOCH_ORDINAL, None, None, name)
            for day, name in closed_days.items()
        ),
    ]


def latest_screening_answers_by_patient(
    patient_ids, *, since: datetime | None = None
) -> dict[int, dict[str, ScreeningAnswer]]:
    """Each patient's latest answer to each screening question (answered at or after `since`
    when given), as {patient id: {rule code: ScreeningAnswer}}: one query for any number of
    patients."""
    answers = ScreeningAnswer.objects.filter(patient_id__in=list(patient_ids)).select_related(
        "rule"
    )
    if since is not None:
        answers = answers.filter(answered_at__gte=since)
    latest: dict[int, dict[str, ScreeningAnswer]] = defaultdict(dict)
    for answer in answers.order_by("-answered_at", "-pk"):
        latest[answer.patient_id].setdefault(answer.rule.code, answer)
    return latest


def latest_screening_answers(patient, *, since: datetime | None = None):
    """One patient's latest answers, as {rule code: ScreeningAnswer}."""
    return latest_screening_answers_by_patient([patient.pk], since=since).get(patient.pk, {})
