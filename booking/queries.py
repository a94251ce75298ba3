"""Database reads that feed the pure availability engine, in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import FloatField, Func, Q

from booking import availability
from booking.models import (
    Appointment,
    Location,
    Provider,
    Room,
    ScreeningAnswer,
    TimeOff,
    WorkingHours,
)
from treatments.models import Treatment


class Epoch(Func):
    """A datetime column as seconds since 1970, computed by the database: parsing thousands
    of timestamps into datetimes only to turn them back into numbers is most of the cost."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            # julianday() is a float of days; round off its error to whole seconds.
            template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
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
        )


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
) -> Schedules:
    """Four queries, whatever the number of providers, rooms, days or appointments."""
    tz = location.zone
    start, end = local_day_bounds(tz, first_day, last_day)

    # Aestheticians come with their hours here in one query: one with no hours here has no
    # free time here either.
    performing = Provider.objects.performing(treatment, location)
    if provider_ids is not None:
        performing = performing.filter(pk__in=provider_ids)
    hours: dict[int, list[availability.WeeklyHours]] = defaultdict(list)
    names: dict[int, str] = {}
    for provider_id, name, weekday, opens, closes in (
        WorkingHours.objects.filter(location=location, provider__in=performing)
        .order_by("provider__display_name", "provider_id", "weekday", "start_time")
        .values_list("provider_id", "provider__display_name", "weekday", "start_time", "end_time")
    ):
        names[provider_id] = name
        hours[provider_id].append(availability.WeeklyHours(weekday, opens, closes))
    ids = list(names)

    room_ids = list(
        Room.objects.filter(location=location, treatments=treatment, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    # Busy spans go to the engine as epoch seconds: thousands of rows, already instants.
    provider_busy: dict[int, list[availability.EpochSpan]] = defaultdict(list)
    for provider_id, *span in TimeOff.objects.filter(
        provider_id__in=ids, start__lt=end, end__gt=start
    ).values_list("provider_id", Epoch("start"), Epoch("end")):
        provider_busy[provider_id].append(tuple(span))

    room_busy: dict[int, list[availability.EpochSpan]] = defaultdict(list)
    held = (
        Appointment.objects.active()
        .filter(
            Q(provider_id__in=ids) | Q(room_id__in=room_ids), start__lt=end, held_until__gt=start
        )
        .values_list(
            "provider_id", "room_id", Epoch("start"), Epoch("provider_start"), Epoch("held_until")
        )
    )
    if exclude_appointment_id is not None:
        held = held.exclude(pk=exclude_appointment_id)
    for provider_id, room_id, appt_start, provider_start, held_until in held:
        provider_busy[provider_id].append((provider_start, held_until))
        room_busy[room_id].append((appt_start, held_until))

    return Schedules(
        timing=timing_of(treatment),
        tz=tz,
        rules=rules_of(location),
        providers=tuple(
            availability.ProviderSchedule(
                provider_id=pk, hours=tuple(hours[pk]), busy=tuple(provider_busy[pk])
            )
            for pk in ids
        ),
        rooms=tuple(
            availability.RoomSchedule(room_id=r, busy=tuple(room_busy[r])) for r in room_ids
        ),
        provider_names=names,
    )


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
