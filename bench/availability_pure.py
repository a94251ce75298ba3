"""Median time of booking.availability.free_slots for 20 providers x 6 weeks x 5,000 busy.

Run: .venv/bin/python -m bench.availability_pure
"""

import random
import statistics
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.availability import (  # noqa: E402
    Interval,
    ProviderSchedule,
    RoomSchedule,
    Timing,
    WeeklyHours,
    free_slots,
    holds,
)

TZ = ZoneInfo("America/New_York")
FIRST_DAY = date(2027, 10, 25)  # includes the fall-back change on 2027-11-07
LAST_DAY = FIRST_DAY + timedelta(days=41)
NOW = datetime(2027, 10, 24, 12, tzinfo=TZ)
TIMING = Timing(duration_minutes=60, numbing_minutes=30, cleanup_minutes=15)
PROVIDERS = 20
ROOMS = 8
BUSY = 5_000
RUNS = 20


def build(rng: random.Random) -> tuple[list[ProviderSchedule], list[RoomSchedule]]:
    hours = tuple(WeeklyHours(wd, time(9), time(17)) for wd in range(6))
    provider_busy: list[list[Interval]] = [[] for _ in range(PROVIDERS)]
    room_busy: list[list[Interval]] = [[] for _ in range(ROOMS)]
    for n in range(BUSY // 2):
        day = FIRST_DAY + timedelta(days=rng.randrange(42))
        start = datetime.combine(day, time(9), TZ) + timedelta(minutes=15 * rng.randrange(28))
        room, provider = holds(start.astimezone(UTC), TIMING)
        provider_busy[n % PROVIDERS].append(provider)
        room_busy[rng.randrange(ROOMS)].append(room)
    for n in range(PROVIDERS):  # a day off each
        off = datetime.combine(FIRST_DAY + timedelta(days=n), time(0), TZ).astimezone(UTC)
        provider_busy[n].append(Interval(off, off + timedelta(days=1)))
    providers = [ProviderSchedule(n + 1, hours, tuple(provider_busy[n])) for n in range(PROVIDERS)]
    rooms = [RoomSchedule(n + 1, tuple(room_busy[n])) for n in range(ROOMS)]
    return providers, rooms


def main() -> None:
    providers, rooms = build(random.Random(1))
    busy = sum(len(p.busy) for p in providers) + sum(len(r.busy) for r in rooms)
    timings = []
    for _ in range(RUNS):
        started = clock.perf_counter()
        slots = free_slots(
            timing=TIMING,
            tz=TZ,
            providers=providers,
            rooms=rooms,
            first_day=FIRST_DAY,
            last_day=LAST_DAY,
            now=NOW,
        )
        timings.append((clock.perf_counter() - started) * 1000)
    print(
        f"free_slots: {PROVIDERS} providers x 42 days, {busy} busy intervals, "
        f"{len(slots)} slots: median {statistics.median(timings):.1f} ms "
        f"(min {min(timings):.1f}, max {max(timings):.1f}) over {RUNS} runs"
    )


if __name__ == "__main__":
    main()
