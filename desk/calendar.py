"""The front desk's calendar grid (pure: standard library only).

A grid is a list of columns (an aesthetician or a room on one day, or one day of an
aesthetician's week) over rows of ``step_minutes`` of local wall-clock time. Every datetime
passed in must be aware; it is shown on the wall clock of ``tz`` (the location's zone). Rows
are counted from local midnight, so on a DST change day the grid shows wall-clock times and an
appointment is placed by its wall-clock start and end.

A visit is drawn over all the time it blocks: numbing first (the patient holds the room, the
aesthetician is free), then the treatment, then cleanup (``held_until``), so a cell that looks
free is free. In an aesthetician's column visits are laid side by side only where the
aesthetician is busy (treatment and cleanup): a visit whose numbing runs while the aesthetician
treats someone else is marked ``shares_numbing`` and drawn as that, not as a double booking.
Cells before ``now`` are ``past`` (shown, never offered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_FIRST_MINUTE = 8 * 60
DEFAULT_LAST_MINUTE = 19 * 60
MAX_LANES = 6  # more visits side by side than this overlap each other


@dataclass(frozen=True)
class Block:
    """Something to draw in a column: an appointment (``key`` is its id)."""

    key: int
    start: datetime
    end: datetime
    numbing_minutes: int = 0
    payload: object = None
    held_until: datetime | None = None  # end plus cleanup; None: no cleanup


@dataclass(frozen=True)
class ColumnInput:
    """One column: its own day, working hours on that day (naive wall-clock ``time`` pairs),
    time off (aware ``datetime`` pairs) and blocks."""

    key: str
    label: str
    day: date
    hours: tuple[tuple[time, time], ...] = ()
    away: tuple[tuple[datetime, datetime], ...] = ()
    blocks: tuple[Block, ...] = ()
    provider_id: int | None = None
    # Aware (start, end) spans when every room is held: nothing can start then.
    full: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Cell:
    """A bookable row of a column (inside working hours, not on time off). ``clock`` is its
    local wall-clock start, "09:15"; ``past`` if that start is before now; ``full`` if every
    room is held then."""

    row: int
    clock: str
    past: bool = False
    full: bool = False


@dataclass(frozen=True)
class Shade:
    """A run of rows that cannot be booked: ``kind`` is "off" (outside working hours) or
    "away" (time off)."""

    row: int
    rows: int
    kind: str


@dataclass(frozen=True)
class PlacedBlock:
    """A block placed on rows ``row`` .. ``row + rows - 1`` (1-based grid lines, numbing to
    the end of cleanup), side by side with overlapping blocks: ``lane`` of ``lanes``. The first
    ``numbing_rows`` are numbing, the last ``cleanup_rows`` cleanup. ``shares_numbing``: its
    numbing overlaps another visit of the same aesthetician (allowed: only the room is held)."""

    block: Block
    row: int
    rows: int
    numbing_rows: int
    lane: int
    lanes: int
    cleanup_rows: int = 0
    shares_numbing: bool = False


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    day: date
    provider_id: int | None
    cells: tuple[Cell, ...]
    shades: tuple[Shade, ...]
    blocks: tuple[PlacedBlock, ...]


@dataclass(frozen=True)
class Grid:
    first_minute: int
    step_minutes: int
    rows: int
    times: tuple[tuple[int, str], ...] = field(default=())  # (row, "09:00") on the hour
    columns: tuple[Column, ...] = ()
    now_row: tuple[int, int] | None = None  # (row, minutes into it) of "now" on the grid's day
    scroll_row: int = 1  # the row to open at: now on today, else the first bookable row


def _held_end(block: Block) -> datetime:
    return block.held_until if block.held_until is not None else block.end


def _minute_of_day(instant: datetime, tz: ZoneInfo, day: date) -> int:
    """Wall-clock minutes since ``day``'s midnight (negative before, 1440+ after)."""
    local = instant.astimezone(tz)
    return (local.date() - day).days * 1440 + local.hour * 60 + local.minute


def bounds(
    columns: Sequence[ColumnInput], tz: ZoneInfo, *, step_minutes: int = 15
) -> tuple[int, int]:
    """First and last minute of day to show: the working hours and appointments of every
    column, widened to whole hours, and at least 08:00-19:00."""
    first, last = DEFAULT_FIRST_MINUTE, DEFAULT_LAST_MINUTE
    for column in columns:
        for start, end in column.hours:
            first = min(first, start.hour * 60 + start.minute)
            last = max(last, end.hour * 60 + end.minute)
        for block in column.blocks:
            first = min(first, max(0, _minute_of_day(block.start, tz, column.day)))
            last = max(last, min(1440, _minute_of_day(_held_end(block), tz, column.day)))
    return first - first % 60, min(1440, last + (-last) % 60)


def build(
    columns: Sequence[ColumnInput],
    tz: ZoneInfo,
    *,
    now: datetime,
    step_minutes: int = 15,
    show_now_on: date | None = None,
) -> Grid:
    """Lay ``columns`` out on one grid of ``step_minutes`` rows."""
    first, last = bounds(columns, tz, step_minutes=step_minutes)
    rows = (last - first) // step_minutes
    built = tuple(_build_column(c, tz, first, rows, step_minutes, now) for c in columns)
    times = tuple(
        (1 + (minute - first) // step_minutes, f"{minute // 60:02d}:00")
        for minute in range(first, last, 60)
    )
    now_row = None
    local_now = now.astimezone(tz)
    if show_now_on is not None and local_now.date() == show_now_on:
        minute = local_now.hour * 60 + local_now.minute
        if first <= minute < last:
            now_row = (1 + (minute - first) // step_minutes, (minute - first) % step_minutes)
    today = any(c.day == local_now.date() for c in columns)
    if now_row is not None and today:
        scroll_row = now_row[0]
    else:
        scroll_row = min((c.cells[0].row for c in built if c.cells), default=1)
    return Grid(first, step_minutes, rows, times, built, now_row, scroll_row)


def _build_column(
    column: ColumnInput, tz: ZoneInfo, first: int, rows: int, step: int, now: datetime
) -> Column:
    # Row r covers minutes [first + (r - 1) * step, first + r * step): mark rows by arithmetic
    # on each span rather than testing every row against every span.
    bookable = [False] * (rows + 2)
    for s, e in column.hours:
        opens, closes = s.hour * 60 + s.minute, e.hour * 60 + e.minute
        # Whole rows inside [opens, closes).
        for row in range(
            max(1, 1 + -(-(opens - first) // step)), min(rows, (closes - first) // step) + 1
        ):
            bookable[row] = True
    away = [False] * (rows + 2)
    for away_start, away_end in column.away:
        s_minute = _minute_of_day(away_start, tz, column.day)
        e_minute = _minute_of_day(away_end, tz, column.day)
        # Rows with s_minute < row end and row start < e_minute.
        low, high = 1 + (s_minute - first) // step, -(-(e_minute - first) // step)
        for row in range(max(1, low), min(rows, high) + 1):
            away[row] = True
    full = [False] * (rows + 2)
    for full_start, full_end in column.full:
        # Rows whose start minute lies in [full_start, full_end).
        s_minute = _minute_of_day(full_start, tz, column.day)
        e_minute = _minute_of_day(full_end, tz, column.day)
        low, high = 1 + -(-(s_minute - first) // step), 1 + -(-(e_minute - first) // step)
        for row in range(max(1, low), min(rows + 1, high)):
            full[row] = True
    # Cells starting before this minute of the column's day are past.
    now_minute = _minute_of_day(now, tz, column.day)
    cells = []
    shades: list[Shade] = []
    for row in range(1, rows + 1):
        if away[row]:
            kind = "away"
        elif bookable[row]:
            minute = first + (row - 1) * step
            cells.append(_cell(row, minute, minute < now_minute, full[row]))
            continue
        else:
            kind = "off"
        last = shades[-1] if shades else None
        if last and last.kind == kind and last.row + last.rows == row:
            shades[-1] = Shade(last.row, last.rows + 1, kind)
        else:
            shades.append(Shade(row, 1, kind))
    return Column(
        key=column.key,
        label=column.label,
        day=column.day,
        provider_id=column.provider_id,
        cells=tuple(cells),
        shades=tuple(shades),
        blocks=_place(column, tz, first, rows, step),
    )


@lru_cache(maxsize=4096)
def _cell(row: int, minute: int, past: bool, full: bool = False) -> Cell:
    """Cells are frozen, so columns share them."""
    return Cell(row=row, clock=f"{minute // 60:02d}:{minute % 60:02d}", past=past, full=full)


def all_held(
    per_room: Sequence[Sequence[tuple[datetime, datetime]]],
) -> tuple[tuple[datetime, datetime], ...]:
    """The spans when every room is held, from each room's held (start, end) spans (aware,
    half-open; a room's own spans may touch or overlap). No rooms: nothing is held."""
    if not per_room:
        return ()
    events: list[tuple[datetime, int]] = []
    for spans in per_room:
        merged: list[list[datetime]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            events += [(start, 1), (end, -1)]
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    held, opened, result = 0, None, []
    for instant, change in events:
        held += change
        if held == len(per_room) and opened is None:
            opened = instant
        elif held < len(per_room) and opened is not None:
            if instant > opened:
                result.append((opened, instant))
            opened = None
    return tuple(result)


@dataclass
class _Span:
    """A block on the grid while it is being placed (minutes of the column's day)."""

    block: Block
    row: int
    rows: int
    numbing_rows: int
    cleanup_rows: int
    start: int  # drawn from here (numbing included)
    busy_from: int  # the column is held from here: the start, or after numbing
    busy_to: int  # to the end of cleanup
    lane: int = 0
    shares_numbing: bool = False


def _place(
    column: ColumnInput, tz: ZoneInfo, first: int, rows: int, step: int
) -> tuple[PlacedBlock, ...]:
    """Rows for each block, and lanes so that blocks holding the column at once sit side by
    side. A room is held from the start; an aesthetician only after numbing."""
    last = first + rows * step
    by_aesthetician = column.provider_id is not None
    spans: list[_Span] = []
    for block in column.blocks:
        start_m = _minute_of_day(block.start, tz, column.day)
        end_m = _minute_of_day(block.end, tz, column.day)
        held_m = _minute_of_day(_held_end(block), tz, column.day)
        start, end = max(start_m, first), min(held_m, last)
        if end <= start:
            continue
        row = 1 + (start - first) // step
        length = min(max(1, -(-(end - start) // step)), rows - row + 1)
        numbing = min(length, max(0, start_m + block.numbing_minutes - start) // step)
        cleanup = min(length - numbing, max(0, end - max(end_m, start)) // step)
        busy_from = start_m + block.numbing_minutes if by_aesthetician else start_m
        spans.append(_Span(block, row, length, numbing, cleanup, start, max(busy_from, start), end))
    spans.sort(key=lambda s: (s.busy_from, s.busy_to, s.block.key))
    if by_aesthetician:
        for span in spans:
            # Numbing [start, busy_from) while the aesthetician is busy with another visit.
            span.shares_numbing = any(
                other is not span
                and other.busy_from < span.busy_from
                and span.start < other.busy_to
                for other in spans
            )

    placed: list[PlacedBlock] = []
    cluster: list[_Span] = []
    cluster_end = 0

    def close_cluster() -> None:
        lanes = min(MAX_LANES, 1 + max((s.lane for s in cluster), default=0))
        for s in cluster:
            placed.append(
                PlacedBlock(
                    s.block,
                    s.row,
                    s.rows,
                    s.numbing_rows,
                    min(s.lane, lanes - 1),
                    lanes,
                    s.cleanup_rows,
                    s.shares_numbing,
                )
            )
        cluster.clear()

    for span in spans:
        if cluster and span.busy_from >= cluster_end:
            close_cluster()
        lane_ends: dict[int, int] = {}
        for other in cluster:
            lane_ends[other.lane] = max(lane_ends.get(other.lane, 0), other.busy_to)
        span.lane = next(
            (n for n in range(len(lane_ends) + 1) if lane_ends.get(n, 0) <= span.busy_from),
            len(lane_ends),
        )
        cluster.append(span)
        cluster_end = max(cluster_end, span.busy_to)
    close_cluster()
    placed.sort(key=lambda p: (p.row, p.lane, p.block.key))
    return tuple(placed)
