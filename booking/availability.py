"""Free appointment slots from working hours, busy intervals and rooms (pure, standard library).

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
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, islice, repeat
from operator import itemgetter, le, lt, sub
from typing import cast
from zoneinfo import ZoneInfo

__all__ = [
    "EpochSpan",
    "FreeTime",
    "Interval",
    "ProviderSchedule",
    "RoomSchedule",
    "Rules",
    "Slot",
    "Timing",
    "WeeklyHours",
    "free_slots",
    "free_times",
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


@dataclass(frozen=True)
class FreeTime:
    """An offered start in the location's zone with every provider free then (ascending ids);
    ``end`` and ``room_id`` as in :class:`Slot` (the room does not depend on the provider)."""

    start: datetime
    end: datetime
    provider_ids: tuple[int, ...]
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
    closed_days: Collection[date] = frozenset(),
) -> list[Slot]:
    """Every start a patient may book, ordered by (start, provider_id).

    ``first_day``..``last_day`` are inclusive local calendar days in ``tz``; the local days in
    ``closed_days`` (holidays) have no working hours. A start is offered
    for a provider when it is on the step grid inside one of the provider's working-hours blocks
    for that weekday, at least ``min_notice_minutes`` and at most ``horizon_days`` after ``now``,
    the provider interval overlaps none of the provider's busy intervals, and some room is free
    for the room interval (the lowest free ``room_id`` is chosen).

    The same answer as :func:`free_times`, one slot per (start, provider).
    """
    return [
        Slot(free.start, free.end, provider_id, free.room_id)
        for free in free_times(
            timing=timing,
            tz=tz,
            providers=providers,
            rooms=rooms,
            first_day=first_day,
            last_day=last_day,
            now=now,
            rules=rules,
            closed_days=closed_days,
        )
        for provider_id in free.provider_ids
    ]


def free_times(
    *,
    timing: Timing,
    tz: ZoneInfo,
    providers: Sequence[ProviderSchedule],
    rooms: Sequence[RoomSchedule],
    first_day: date,
    last_day: date,
    now: datetime,
    rules: Rules = Rules(),  # noqa: B008 - frozen, so a shared default is safe
    closed_days: Collection[date] = frozenset(),
) -> list[FreeTime]:
    """Every distinct start a patient may book, ordered by start, each with the providers free
    then: :func:`free_slots` grouped by start, under the same rules.

    The work grows with the grid starts of the range, the working-hours blocks and the busy
    intervals (plus the answer itself), not with providers x starts: the grid is numbered once,
    each block and each merged busy interval becomes a range of grid numbers by bisection, and
    a provider's free starts are the hours' ranges minus the busy ones.
    """
    _require_aware(now, "now")
    if not rooms or not providers or first_day > last_day:
        return []
    calc = _Calculator(timing, tz, rules, now, rooms)
    grid = calc.grid(calc.days(first_day, last_day, closed_days))
    if not grid:
        return []

    # Busy [b, e) blocks the starts s with b - offset - length < s < e - offset.
    offset = calc.provider_offset
    before = offset + calc.provider_length
    working: list[tuple[int, list[tuple[int, int]], list[float], list[float]]] = []
    for provider in sorted(providers, key=_provider_key):  # id order: each list ascending
        hour_runs = calc.hour_runs(grid, provider.hours)
        if hour_runs:
            busy_starts, busy_ends = _merged(provider.busy)
            blocked_after = list(map(sub, busy_starts, repeat(before)))
            blocked_before = list(map(sub, busy_ends, repeat(offset)))
            working.append((provider.provider_id, hour_runs, blocked_after, blocked_before))
    # Visits start on the grid, so the same bounds recur across providers: each distinct one
    # is placed on the grid once (busy bounds grow with providers, distinct ones with days).
    first_free = _positions(bisect_right, grid, (w[2] for w in working))
    last_free = _positions(bisect_left, grid, (w[3] for w in working))

    # Grid number -> providers free then.
    free_at: list[list[int]] = [[] for _ in grid]
    for pid, hour_runs, blocked_after, blocked_before in working:
        busy_runs = list(
            zip(
                map(first_free.__getitem__, blocked_after),
                map(last_free.__getitem__, blocked_before),
                strict=True,
            )
        )
        for first, last in _subtract(hour_runs, busy_runs):
            for at in free_at[first:last]:
                at.append(pid)

    result: list[FreeTime] = []
    append = result.append
    patient_length = calc.patient_length
    for start, ids in zip(grid, free_at, strict=True):
        if not ids:
            continue
        room_id = calc.room_for(start)
        if room_id is None:
            continue
        append(
            FreeTime(
                datetime.fromtimestamp(start, tz),
                datetime.fromtimestamp(start + patient_length, tz),
                tuple(ids),
                room_id,
            )
        )
    return result


def _positions(
    bisect: Callable[[list[int], float], int], grid: list[int], groups: Iterable[list[float]]
) -> dict[float, int]:
    """``bisect(grid, value)`` for every value in ``groups``, computed once per distinct value."""
    distinct = list(set(chain.from_iterable(groups)))
    return dict(zip(distinct, map(bisect, repeat(grid), distinct), strict=True))


def _subtract(
    hour_runs: list[tuple[int, int]], busy_runs: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Runs [first, last) of grid numbers in ``hour_runs`` (sorted, disjoint) and in none of
    ``busy_runs`` (sorted by both ends, possibly empty or overlapping)."""
    result: list[tuple[int, int]] = []
    b = 0
    busy_count = len(busy_runs)
    for first, last in hour_runs:
        position = first
        while b < busy_count:
            blocked_first, blocked_last = busy_runs[b]
            if blocked_first >= last:
                break
            if blocked_last <= position:
                b += 1
                continue
            if blocked_first > position:
                result.append((position, blocked_first))
            if blocked_last >= last:
                position = last
                break
            position = blocked_last
            b += 1
        if position < last:
            result.append((position, last))
    return result


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
    closed_days: Collection[date] = frozenset(),
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
    if day in closed_days:
        return None
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
        self._steady: dict[date, int | None] = {}

    def steady_offset(self, day: date) -> int | None:
        """The UTC offset in seconds that holds all of local ``day``, or None when the offset
        changes that day (then each time goes through :meth:`instant`). Zones change offset at
        most once a day, so equal offsets at both ends of the day mean no change between."""
        try:
            return self._steady[day]
        except KeyError:
            pass
        first = self._local(day, 0)
        last = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=self.tz)
        offsets = {
            moment.utcoffset()
            for moment in (first, first.replace(fold=1), last, last.replace(fold=1))
        }
        result = None
        if len(offsets) == 1:
            (offset,) = offsets
            assert offset is not None
            result = int(offset.total_seconds())
        self._steady[day] = result
        return result

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
        self._hour_runs: dict[tuple[WeeklyHours, ...], list[tuple[int, int]]] = {}
        self._days: list[date] = []

    def days(
        self, first_day: date, last_day: date, closed_days: Collection[date] = frozenset()
    ) -> list[date]:
        """Local days in range, not closed, that can hold a start between earliest and
        latest."""
        if self.earliest > self.latest:
            return []
        one_day = timedelta(days=1)
        # A local day's instants lie within about a day of its date's UTC midnight.
        first = max(first_day, datetime.fromtimestamp(self.earliest, UTC).date() - one_day)
        last = min(last_day, datetime.fromtimestamp(self.latest, UTC).date() + one_day)
        every_day = (first + timedelta(days=n) for n in range((last - first).days + 1))
        self._days = [day for day in every_day if day not in closed_days]
        return self._days

    def grid(self, days: list[date]) -> list[int]:
        """Ascending epoch seconds of every grid start on ``days`` (fold=0 wall-clock times
        that exist) between earliest and latest."""
        result: list[int] = []
        earliest, latest, step = self.earliest, self.latest, self.step
        for day in days:
            offset = self.zone.steady_offset(day)
            if offset is not None:
                midnight = (day.toordinal() - _EPOCH_ORDINAL) * _SECONDS_PER_DAY - offset
                first = max(midnight, earliest)
                wall = -(-(first - midnight) // step) * step
                last = min(midnight + _SECONDS_PER_DAY - 1, latest)
                result.extend(range(midnight + wall, last + 1, step))
                continue
            for wall in range(0, _SECONDS_PER_DAY, step):
                instant = self.zone.instant(day, wall)
                if instant is not None and earliest <= instant <= latest:
                    result.append(instant)
        return result

    def hour_runs(self, grid: list[int], hours: tuple[WeeklyHours, ...]) -> list[tuple[int, int]]:
        """Sorted disjoint runs [first, last) of grid numbers where a visit fits inside one of
        the blocks ``hours`` on its day; providers with equal hours share one list."""
        cached = self._hour_runs.get(hours)
        if cached is not None:
            return cached
        blocks_by_weekday = _blocks_by_weekday(hours)
        runs: list[tuple[int, int]] = []
        for day in self._days:
            for block in blocks_by_weekday.get(day.weekday(), ()):
                first = bisect_left(grid, self.zone.bound(day, block.start))
                last = bisect_right(grid, self.zone.bound(day, block.end) - self.patient_length)
                if first >= last:
                    continue
                if runs and first <= runs[-1][1]:
                    runs[-1] = (runs[-1][0], max(last, runs[-1][1]))
                else:
                    runs.append((first, last))
        self._hour_runs[hours] = runs
        return runs

    def room_for(self, start: int) -> int | None:
        """Lowest room_id whose room interval for a booking at ``start`` is free."""
        if start in self._room_for:
            return self._room_for[start]
        result = None
        end = start + self.room_length
        for room_id, busy_starts, busy_ends in self._rooms:
            i = bisect_right(busy_ends, start)
            if i == len(busy_starts) or busy_starts[i] >= end:
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


def _merged(busy: Sequence[Interval | EpochSpan]) -> tuple[list[float], list[float]]:
    """Sorted disjoint (starts, ends) in epoch seconds; empty intervals dropped."""
    spans: list[EpochSpan]
    if not any(map(isinstance, busy, repeat(Interval))):
        spans = sorted(cast("Sequence[EpochSpan]", busy))
    else:
        spans = sorted(
            (span.start.timestamp(), span.end.timestamp()) if isinstance(span, Interval) else span
            for span in busy
        )
    starts = list(map(itemgetter(0), spans))
    ends = list(map(itemgetter(1), spans))
    # Usually (visits cannot overlap) each span is non-empty and ends by the next one's start:
    # checked without a Python-level loop, then nothing is left to merge.
    if all(map(lt, starts, ends)) and all(map(le, ends, islice(starts, 1, None))):
        return starts, ends
    starts, ends = [], []
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


def _provider_key(provider: ProviderSchedule) -> int:
    return provider.provider_id


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")
