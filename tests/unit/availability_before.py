"""The availability engine as it was before free_times (issue 16), kept verbatim as an oracle:
the property tests check that the grouped engine gives exactly its answers.

Free appointment slots from working hours, busy intervals and rooms (pure, standard library).

Units and time zones:
- Every ``datetime`` passed in must be aware; instants are compared as instants, whatever their
  zone. Returned slot times are in the location's zone ``tz``.
- ``WeeklyHours`` are wall-clock times in ``tz``. Candidate starts are wall-clock times on a grid
  of ``step_minutes`` counted from local midnight, so a 10:00 slot stays 10:00 across a DST
  change. A wall-clock time that does not exist (spring-forward gap) is skipped; an ambiguous one
  (fall-back) is offered once, as its first occurrence (``fold=0``). A working-hours bound that
  falls in a gap means the moment the gap ends.
- Durations (``*_minutes``) are real elapsed minutes.
- Intervals are half-open ``[start, end)``: touching intervals do not overlap.

A booking starting at ``s`` holds the room over ``[s, s + numbing + duration + cleanup)`` and the
provider over ``[s + numbing, s + numbing + duration + cleanup)``; the patient-facing appointment
``[s, s + numbing + duration)`` must lie inside one working-hours block (cleanup may run past it).

Internally everything is integer UTC epoch seconds; datetimes are built only for returned slots.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "EpochSpan",
    "Interval",
    "ProviderSchedule",
    "RoomSchedule",
    "Rules",
    "Slot",
    "Timing",
    "WeeklyHours",
    "free_slots",
    "holds",
    "is_free",
]

_SECONDS_PER_DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Interval:
    """Half-open ``[start, end)`` between two aware datetimes (any zone)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "Interval.start")
        _require_aware(self.end, "Interval.end")
        # As instants: Python compares two times in one zone by wall clock, ignoring fold.
        if self.end.timestamp() < self.start.timestamp():
            raise ValueError(f"Interval ends before it starts: {self.start} - {self.end}")


# A busy span as (start, end) epoch seconds: what the database layer passes, as it loads
# thousands of them that are already instants and need no checking or conversion.
EpochSpan = tuple[float, float]


@dataclass(frozen=True)
class WeeklyHours:
    """One working-hours block on a weekday (Monday = 0), naive wall-clock times in the location's
    zone, whole minutes. Blocks cannot cross midnight; ``end`` must be after ``start``."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6, not {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("WeeklyHours are wall-clock times: pass naive times")
        if self.start.second or self.start.microsecond or self.end.second or self.end.microsecond:
            raise ValueError("WeeklyHours must be whole minutes")
        if self.end <= self.start:
            raise ValueError(f"working hours end {self.end} is not after start {self.start}")


@dataclass(frozen=True)
class ProviderSchedule:
    """A provider's weekly hours and busy intervals (time off and the provider parts of active
    appointments, as held)."""

    provider_id: int
    hours: tuple[WeeklyHours, ...]
    busy: tuple[Interval | EpochSpan, ...]


@dataclass(frozen=True)
class RoomSchedule:
    """A room that can host the treatment, with the room parts of active appointments."""

    room_id: int
    busy: tuple[Interval | EpochSpan, ...]


@dataclass(frozen=True)
class Timing:
    """Minutes of numbing (room only), treatment, and cleanup (room and provider)."""

    duration_minutes: int
    numbing_minutes: int = 0
    cleanup_minutes: int = 0

    def __post_init__(self) -> None:
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        if self.numbing_minutes < 0 or self.cleanup_minutes < 0:
            raise ValueError("numbing_minutes and cleanup_minutes must not be negative")


@dataclass(frozen=True)
class Rules:
    """Grid step, minimum notice (minutes before ``now``) and booking horizon (days after)."""

    step_minutes: int = 15
    min_notice_minutes: int = 120
    horizon_days: int = 120

    def __post_init__(self) -> None:
        if self.step_minutes <= 0:
            raise ValueError("step_minutes must be positive")
        if self.min_notice_minutes < 0 or self.horizon_days < 0:
            raise ValueError("min_notice_minutes and horizon_days must not be negative")


@dataclass(frozen=True)
class Slot:
    """An offered start in the location's zone; ``end`` is the patient-facing end (start +
    numbing + duration); ``room_id`` is the lowest free room."""

    start: datetime
    end: datetime
    provider_id: int
    room_id: int


def holds(start: datetime, timing: Timing) -> tuple[Interval, Interval]:
    """(room interval, provider interval) held by a booking at ``start``, in ``start``'s zone.

    Adds real elapsed minutes (plain aware-datetime arithmetic would add wall-clock time).
    """
    _require_aware(start, "start")
    tz = start.tzinfo
    utc_start = start.astimezone(UTC)
    provider_start = utc_start + timedelta(minutes=timing.numbing_minutes)
    end = provider_start + timedelta(minutes=timing.duration_minutes + timing.cleanup_minutes)
    room = Interval(start, end.astimezone(tz))
    provider = Interval(provider_start.astimezone(tz), room.end)
    return room, provider


def free_slots(
    *,
    timing: Timing,
    tz: ZoneInfo,
    providers: Sequence[ProviderSchedule],
    rooms: Sequence[RoomSchedule],
    first_day: date,
    last_day: date,
    now: datetime,
    rules: Rules = Rules(),  # noqa: B008 - frozen, so a shared default is safe
) -> list[Slot]:
    """Every start a patient may book, ordered by (start, provider_id).

    ``first_day``..``last_day`` are inclusive local calendar days in ``tz``. A start is offered
    for a provider when it is on the step grid inside one of the provider's working-hours blocks
    for that weekday, at least ``min_notice_minutes`` and at most ``horizon_days`` after ``now``,
    the provider interval overlaps none of the provider's busy intervals, and some room is free
    for the room interval (the lowest free ``room_id`` is chosen).
    """
    _require_aware(now, "now")
    if not rooms or not providers or first_day > last_day:
        return []
    calc = _Calculator(timing, tz, rules, now, rooms)
    days = calc.days(first_day, last_day)
    if not days:
        return []

    offset, provider_length = calc.provider_offset, calc.provider_length
    found: list[tuple[int, int, int]] = []
    append = found.append
    for provider in providers:
        blocks_by_weekday = _blocks_by_weekday(provider.hours)
        if not blocks_by_weekday:
            continue
        busy_starts, busy_ends = _merged(provider.busy)
        busy_count = len(busy_starts)
        pid = provider.provider_id
        i = 0  # first busy interval that may still overlap; candidates only move forward
        for day in days:
            blocks = blocks_by_weekday.get(day.weekday())
            if blocks is None:
                continue
            for start, room_id in calc.candidates(day, blocks):
                provider_start = start + offset
                while i < busy_count and busy_ends[i] <= provider_start:
                    i += 1
                if i < busy_count and busy_starts[i] < provider_start + provider_length:
                    continue
                append((start, pid, room_id))

    found.sort()
    return calc.slots(found)


def is_free(
    start: datetime,
    *,
    timing: Timing,
    tz: ZoneInfo,
    provider: ProviderSchedule,
    rooms: Sequence[RoomSchedule],
    now: datetime,
    rules: Rules = Rules(),  # noqa: B008 - frozen, so a shared default is safe
    require_step: bool = True,
) -> Slot | None:
    """The slot a booking at exactly ``start`` would get, or None if it would not be offered.

    Same rules as :func:`free_slots`. With ``require_step=False`` (staff) any whole-minute start
    inside working hours is accepted, including the second occurrence of an ambiguous time.
    """
    _require_aware(start, "start")
    _require_aware(now, "now")
    local = start.astimezone(tz)
    if local.second or local.microsecond or not rooms:
        return None
    calc = _Calculator(timing, tz, rules, now, rooms)
    instant = math.floor(start.timestamp())
    if not calc.earliest <= instant <= calc.latest:
        return None
    day = local.date()
    wall = local.hour * 3600 + local.minute * 60
    # The grid is fold=0 wall-clock times, so a second occurrence is off the grid.
    if require_step and (wall % calc.step or calc.zone.instant(day, wall) != instant):
        return None
    patient_end = instant + calc.patient_length
    if not any(
        calc.zone.bound(day, block.start) <= instant
        and patient_end <= calc.zone.bound(day, block.end)
        for block in provider.hours
        if block.weekday == day.weekday()
    ):
        return None
    busy_starts, busy_ends = _merged(provider.busy)
    if not _is_clear(busy_starts, busy_ends, instant + calc.provider_offset, calc.provider_length):
        return None
    room_id = calc.room_for(instant)
    if room_id is None:
        return None
    return calc.slots([(instant, provider.provider_id, room_id)])[0]


class _Zone:
    """Wall-clock to epoch-second conversions for one zone, cached for one call."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._instants: dict[tuple[date, int], int | None] = {}

    def instant(self, day: date, wall: int) -> int | None:
        """Epoch seconds of the first occurrence of ``wall`` seconds after local midnight of
        ``day``, or None when that wall-clock time does not exist."""
        key = (day, wall)
        try:
            return self._instants[key]
        except KeyError:
            pass
        local = self._local(day, wall)
        first_offset = local.utcoffset()
        second_offset = local.replace(fold=1).utcoffset()
        assert first_offset is not None and second_offset is not None
        # In a gap fold=0 uses the earlier (smaller) offset; in a fold, the larger one.
        result = None
        if first_offset >= second_offset:
            naive = (day.toordinal() - _EPOCH_ORDINAL) * _SECONDS_PER_DAY + wall
            result = naive - int(first_offset.total_seconds())
        self._instants[key] = result
        return result

    def bound(self, day: date, wall_time: time) -> int:
        """Epoch seconds of a working-hours bound: the first instant whose local wall-clock time
        on ``day`` is at or after ``wall_time`` (the end of the gap if it does not exist)."""
        wall = wall_time.hour * 3600 + wall_time.minute * 60
        result = self.instant(day, wall)
        if result is not None:
            return result
        local = self._local(day, wall)
        before, after = local.utcoffset(), local.replace(fold=1).utcoffset()
        assert before is not None and after is not None
        naive = (day.toordinal() - _EPOCH_ORDINAL) * _SECONDS_PER_DAY + wall
        # The missing time read with the offset after the change is before it, read with the
        # offset before the change is after it: bisect between them for the change itself.
        low = naive - int(after.total_seconds())
        high = naive - int(before.total_seconds())
        while low < high:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.tz).utcoffset() == after:
                high = middle
            else:
                low = middle + 1
        return low

    def _local(self, day: date, wall: int) -> datetime:
        hour, minute = divmod(wall // 60, 60)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)


class _Calculator:
    """Shared per-call state: limits, lengths in seconds, zone and room lookups."""

    def __init__(
        self,
        timing: Timing,
        tz: ZoneInfo,
        rules: Rules,
        now: datetime,
        rooms: Sequence[RoomSchedule],
    ) -> None:
        self.tz = tz
        self.zone = _Zone(tz)
        self.step = rules.step_minutes * 60
        now_instant = now.timestamp()
        self.earliest = math.ceil(now_instant + rules.min_notice_minutes * 60)
        self.latest = math.floor(now_instant + rules.horizon_days * _SECONDS_PER_DAY)
        self.patient_length = (timing.numbing_minutes + timing.duration_minutes) * 60
        self.room_length = self.patient_length + timing.cleanup_minutes * 60
        self.provider_offset = timing.numbing_minutes * 60
        self.provider_length = self.room_length - self.provider_offset
        self._rooms = [(room.room_id, *_merged(room.busy)) for room in sorted(rooms, key=_room_key)]
        self._room_for: dict[int, int | None] = {}
        self._candidates: dict[tuple[date, tuple[WeeklyHours, ...]], list[tuple[int, int]]] = {}

    def days(self, first_day: date, last_day: date) -> list[date]:
        """Local days in range that can hold a start between earliest and latest."""
        if self.earliest > self.latest:
            return []
        one_day = timedelta(days=1)
        # A local day's instants lie within about a day of its date's UTC midnight.
        first = max(first_day, datetime.fromtimestamp(self.earliest, UTC).date() - one_day)
        last = min(last_day, datetime.fromtimestamp(self.latest, UTC).date() + one_day)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def candidates(self, day: date, blocks: tuple[WeeklyHours, ...]) -> list[tuple[int, int]]:
        """(start, room_id) for grid starts inside ``blocks`` on ``day`` within notice and
        horizon and with a free room, ordered by start."""
        key = (day, blocks)
        cached = self._candidates.get(key)
        if cached is not None:
            return cached
        starts: set[int] = set()
        for block in blocks:
            end = self.zone.bound(day, block.end) - self.patient_length
            start_wall = block.start.hour * 3600 + block.start.minute * 60
            wall = -(-start_wall // self.step) * self.step  # first grid time at or after start
            while wall < _SECONDS_PER_DAY:
                instant = self.zone.instant(day, wall)
                wall += self.step
                if instant is None:
                    continue
                if instant > end:
                    break  # fold=0 instants rise with wall-clock time
                if self.earliest <= instant <= self.latest:
                    starts.add(instant)
        result = []
        for instant in sorted(starts):
            room_id = self.room_for(instant)
            if room_id is not None:
                result.append((instant, room_id))
        self._candidates[key] = result
        return result

    def room_for(self, start: int) -> int | None:
        """Lowest room_id whose room interval for a booking at ``start`` is free."""
        try:
            return self._room_for[start]
        except KeyError:
            pass
        result = None
        for room_id, busy_starts, busy_ends in self._rooms:
            if _is_clear(busy_starts, busy_ends, start, self.room_length):
                result = room_id
                break
        self._room_for[start] = result
        return result

    def slots(self, found: list[tuple[int, int, int]]) -> list[Slot]:
        """Slots from (start, provider_id, room_id) ordered by start, converting each distinct
        start once."""
        tz, patient_length = self.tz, self.patient_length
        result: list[Slot] = []
        append = result.append
        previous = None
        start_time = end_time = None
        for start, provider_id, room_id in found:
            if start != previous:
                previous = start
                start_time = datetime.fromtimestamp(start, tz)
                end_time = datetime.fromtimestamp(start + patient_length, tz)
            append(Slot(start_time, end_time, provider_id, room_id))  # type: ignore[arg-type]
        return result


def _blocks_by_weekday(hours: Iterable[WeeklyHours]) -> dict[int, tuple[WeeklyHours, ...]]:
    grouped: dict[int, list[WeeklyHours]] = {}
    for block in hours:
        grouped.setdefault(block.weekday, []).append(block)
    # Sorted and deduplicated so equal hours share one cached candidate list.
    return {
        weekday: tuple(sorted(set(blocks), key=lambda b: (b.start, b.end)))
        for weekday, blocks in grouped.items()
    }


def _merged(busy: Iterable[Interval | EpochSpan]) -> tuple[list[float], list[float]]:
    """Sorted disjoint (starts, ends) in epoch seconds; empty intervals dropped."""
    spans = sorted(
        (span.start.timestamp(), span.end.timestamp()) if isinstance(span, Interval) else span
        for span in busy
    )
    starts: list[float] = []
    ends: list[float] = []
    for start, end in spans:
        if end <= start:
            continue
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _is_clear(busy_starts: list[float], busy_ends: list[float], start: int, length: int) -> bool:
    """Whether ``[start, start + length)`` overlaps none of the merged busy intervals."""
    i = bisect_right(busy_ends, start)
    return i == len(busy_starts) or busy_starts[i] >= start + length


def _room_key(room: RoomSchedule) -> int:
    return room.room_id


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")
