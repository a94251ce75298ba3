"""booking.availability: free slots from hours, busy intervals and rooms (pure, no database)."""

import math
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.availability import (
    FreeTime,
    Interval,
    ProviderSchedule,
    RoomSchedule,
    Rules,
    Slot,
    Timing,
    WeeklyHours,
    free_slots,
    free_times,
    holds,
    is_free,
)
from tests.unit import availability_before

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
ZULU = ZoneInfo("UTC")
MONDAY = date(2027, 6, 7)
HOUR = timedelta(hours=1)
NO_NOTICE = Rules(min_notice_minutes=0, horizon_days=1000)
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)
ONE_HOUR = Timing(60)


def every_day(start: time, end: time) -> tuple[WeeklyHours, ...]:
    return tuple(WeeklyHours(weekday, start, end) for weekday in range(7))


def provider(
    provider_id: int = 1,
    hours: tuple[WeeklyHours, ...] = every_day(time(9), time(17)),
    busy: tuple[Interval, ...] = (),
) -> ProviderSchedule:
    return ProviderSchedule(provider_id, hours, busy)


def room(room_id: int = 1, busy: tuple[Interval, ...] = ()) -> RoomSchedule:
    return RoomSchedule(room_id, busy)


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = ZULU, fold: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz, fold=fold)


def busy(day: date, start: tuple[int, int], end: tuple[int, int], tz=ZULU) -> Interval:
    return Interval(local(day, *start, tz=tz), local(day, *end, tz=tz))


def slots(
    *,
    timing: Timing = ONE_HOUR,
    tz: ZoneInfo = ZULU,
    providers=None,
    rooms=None,
    first_day: date = MONDAY,
    last_day: date | None = None,
    now: datetime = LONG_AGO,
    rules: Rules = NO_NOTICE,
) -> list[Slot]:
    return free_slots(
        timing=timing,
        tz=tz,
        providers=[provider()] if providers is None else providers,
        rooms=[room()] if rooms is None else rooms,
        first_day=first_day,
        last_day=first_day if last_day is None else last_day,
        now=now,
        rules=rules,
    )


def walls(found: list[Slot]) -> list[str]:
    return [slot.start.strftime("%H:%M") for slot in found]


# --- the grid, buffers, rooms, hours ---------------------------------------------------------


def test_it_offers_the_step_grid_inside_working_hours():
    found = slots(providers=[provider(hours=every_day(time(9), time(11)))])

    assert walls(found) == ["09:00", "09:15", "09:30", "09:45", "10:00"]
    assert found[0] == Slot(local(MONDAY, 9), local(MONDAY, 10), provider_id=1, room_id=1)
    assert all(slot.start.tzinfo is ZULU for slot in found)


def test_the_grid_counts_from_local_midnight():
    found = slots(providers=[provider(hours=every_day(time(9, 10), time(11)))])

    assert walls(found) == ["09:15", "09:30", "09:45", "10:00"]


def test_it_honours_the_step():
    found = slots(
        providers=[provider(hours=every_day(time(9), time(11)))],
        rules=Rules(step_minutes=30, min_notice_minutes=0, horizon_days=1000),
    )

    assert walls(found) == ["09:00", "09:30", "10:00"]


def test_the_appointment_ends_by_closing_but_cleanup_may_run_past():
    timing = Timing(duration_minutes=60, numbing_minutes=30, cleanup_minutes=30)

    found = slots(timing=timing, providers=[provider(hours=every_day(time(9), time(12)))])

    assert walls(found)[-1] == "10:30"
    assert found[-1].end == local(MONDAY, 12)


def test_only_hours_for_that_weekday_count():
    monday_only = (WeeklyHours(0, time(9), time(10)),)

    found = slots(
        providers=[provider(hours=monday_only)],
        first_day=MONDAY - timedelta(days=3),
        last_day=MONDAY + timedelta(days=3),
    )

    assert {slot.start.date() for slot in found} == {MONDAY}


def test_split_hours_offer_both_blocks_once():
    hours = (
        WeeklyHours(0, time(9), time(10)),
        WeeklyHours(0, time(13), time(14)),
        WeeklyHours(0, time(9), time(10)),
    )

    found = slots(providers=[provider(hours=hours)], timing=Timing(30))

    assert walls(found) == ["09:00", "09:15", "09:30", "13:00", "13:15", "13:30"]


def test_numbing_needs_a_room_but_not_the_provider():
    timing = Timing(duration_minutes=60, numbing_minutes=30)
    provider_busy_while_numbing = provider(
        hours=every_day(time(10), time(12)), busy=(busy(MONDAY, (10, 0), (10, 30)),)
    )

    found = slots(timing=timing, providers=[provider_busy_while_numbing])

    assert walls(found) == ["10:00", "10:15", "10:30"]


def test_a_room_busy_during_numbing_blocks_the_start():
    timing = Timing(duration_minutes=60, numbing_minutes=30)
    room_busy_while_numbing = room(busy=(busy(MONDAY, (10, 0), (10, 30)),))

    found = slots(
        timing=timing,
        providers=[provider(hours=every_day(time(10), time(12)))],
        rooms=[room_busy_while_numbing],
    )

    assert walls(found) == ["10:30"]


def test_cleanup_holds_the_provider_and_the_room():
    hours = every_day(time(10), time(11))
    next_appointment = busy(MONDAY, (11, 0), (12, 0))
    with_cleanup = Timing(duration_minutes=60, cleanup_minutes=15)

    assert walls(slots(providers=[provider(hours=hours, busy=(next_appointment,))])) == ["10:00"]
    assert (
        slots(timing=with_cleanup, providers=[provider(hours=hours, busy=(next_appointment,))])
        == []
    )
    assert (
        slots(
            timing=with_cleanup,
            providers=[provider(hours=hours)],
            rooms=[room(busy=(next_appointment,))],
        )
        == []
    )


def test_touching_intervals_do_not_overlap():
    hours = every_day(time(10), time(11))
    before, after = busy(MONDAY, (9, 0), (10, 0)), busy(MONDAY, (11, 0), (12, 0))

    found = slots(
        providers=[provider(hours=hours, busy=(before, after))],
        rooms=[room(busy=(before, after))],
    )

    assert walls(found) == ["10:00"]


def test_an_empty_busy_interval_holds_nothing():
    empty = busy(MONDAY, (10, 30), (10, 30))

    found = slots(providers=[provider(hours=every_day(time(10), time(11)), busy=(empty,))])

    assert walls(found) == ["10:00"]


def test_it_picks_the_lowest_free_room():
    taken = (busy(MONDAY, (9, 0), (10, 0)),)
    hours = every_day(time(9), time(10))

    found = slots(
        providers=[provider(hours=hours)],
        rooms=[room(3), room(1, busy=taken), room(2)],
    )

    assert [slot.room_id for slot in found] == [2]


def test_no_slot_without_a_free_room():
    taken = (busy(MONDAY, (0, 0), (23, 0)),)

    assert slots(rooms=[room(1, busy=taken), room(2, busy=taken)]) == []
    assert slots(rooms=[]) == []


def test_time_off_removes_slots():
    afternoon_off = busy(MONDAY, (12, 0), (23, 0))

    found = slots(providers=[provider(busy=(afternoon_off,))], timing=Timing(60))

    assert walls(found)[-1] == "11:00"


def test_busy_intervals_in_any_zone_are_compared_as_instants():
    # 10:00-11:00 UTC written in New York time (EDT, UTC-4).
    taken = Interval(local(MONDAY, 6, tz=NEW_YORK), local(MONDAY, 7, tz=NEW_YORK))

    found = slots(providers=[provider(hours=every_day(time(9), time(12)), busy=(taken,))])

    assert walls(found) == ["09:00", "11:00"]


def test_busy_spans_in_epoch_seconds_count_like_intervals():
    taken = busy(MONDAY, (10, 0), (11, 0))
    as_epoch = (taken.start.timestamp(), taken.end.timestamp())

    with_interval = slots(providers=[provider(busy=(taken,))], rooms=[room(busy=(taken,))])
    with_epochs = slots(providers=[provider(busy=(as_epoch,))], rooms=[room(busy=(as_epoch,))])

    assert with_epochs == with_interval
    assert "10:00" not in walls(with_epochs)


def test_minimum_notice_and_horizon():
    now = local(MONDAY, 10)
    rules = Rules(min_notice_minutes=90, horizon_days=1)

    found = slots(now=now, rules=rules, last_day=MONDAY + timedelta(days=2), timing=Timing(30))

    assert found[0].start == local(MONDAY, 11, 30)
    assert found[-1].start == local(MONDAY + timedelta(days=1), 10)
    assert found[-1] == max(found, key=lambda slot: slot.start)


def test_notice_and_horizon_are_instants_not_utc_days():
    # London in June is UTC+1: local Tuesday 00:00-00:30 is Monday 23:00-23:30 UTC.
    london = slots(
        tz=LONDON,
        providers=[provider(hours=every_day(time(0), time(1)))],
        timing=Timing(30),
        last_day=MONDAY + timedelta(days=1),
        now=local(MONDAY - timedelta(days=1), 23, 30),
        rules=Rules(min_notice_minutes=0, horizon_days=1),
    )
    # New York in June is UTC-4: Monday 20:30 EDT is Tuesday 00:30 UTC.
    new_york = slots(
        tz=NEW_YORK,
        providers=[provider(hours=every_day(time(20), time(21)))],
        timing=Timing(30),
        now=local(MONDAY + timedelta(days=1), 0),
        rules=Rules(min_notice_minutes=30),
    )

    assert [slot.start.strftime("%a %H:%M") for slot in london] == [
        "Mon 00:30",
        "Tue 00:00",
        "Tue 00:15",
        "Tue 00:30",
    ]
    assert [slot.start.strftime("%a %H:%M") for slot in new_york] == ["Mon 20:30"]


def test_several_providers_are_ordered_by_start_then_provider():
    hours = every_day(time(9), time(10))

    found = slots(providers=[provider(2, hours), provider(1, hours)], timing=Timing(30))

    assert [(slot.start.strftime("%H:%M"), slot.provider_id) for slot in found] == [
        ("09:00", 1),
        ("09:00", 2),
        ("09:15", 1),
        ("09:15", 2),
        ("09:30", 1),
        ("09:30", 2),
    ]


def test_it_refuses_naive_datetimes_and_impossible_hours():
    with pytest.raises(ValueError):
        slots(now=datetime(2027, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError):
        Interval(datetime(2027, 1, 1), datetime(2027, 1, 2))  # noqa: DTZ001
    with pytest.raises(ValueError):
        WeeklyHours(0, time(17), time(9))
    with pytest.raises(ValueError):
        Timing(duration_minutes=0)


# --- holds -----------------------------------------------------------------------------------


def test_holds_gives_the_room_and_provider_intervals():
    start = local(MONDAY, 10)
    timing = Timing(duration_minutes=60, numbing_minutes=30, cleanup_minutes=15)

    room_interval, provider_interval = holds(start, timing)

    assert room_interval == Interval(start, local(MONDAY, 11, 45))
    assert provider_interval == Interval(local(MONDAY, 10, 30), local(MONDAY, 11, 45))


def test_holds_adds_real_minutes_across_a_dst_change():
    # New York falls back at 2027-11-07 06:00 UTC (02:00 EDT -> 01:00 EST).
    start = local(date(2027, 11, 7), 0, 30, tz=NEW_YORK)  # 04:30 UTC
    timing = Timing(duration_minutes=60, numbing_minutes=30, cleanup_minutes=30)

    room_interval, _ = holds(start, timing)

    # Compared in UTC: Python never calls a fold=1 time equal to a time in another zone.
    assert room_interval.end.astimezone(UTC) == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    assert room_interval.end.strftime("%H:%M %Z") == "01:30 EST"


# --- DST -------------------------------------------------------------------------------------
# New York 2027 spring: 2027-03-14 07:00 UTC, 02:00 EST -> 03:00 EDT (02:00-02:59 do not exist).
# New York 2027 fall:   2027-11-07 06:00 UTC, 02:00 EDT -> 01:00 EST (01:00-01:59 happen twice).
# London 2027 spring:   2027-03-28 01:00 UTC, 01:00 GMT -> 02:00 BST (01:00-01:59 do not exist).
# London 2027 fall:     2027-10-31 01:00 UTC, 02:00 BST -> 01:00 GMT (01:00-01:59 happen twice).

NY_SPRING, NY_FALL = date(2027, 3, 14), date(2027, 11, 7)
LONDON_SPRING, LONDON_FALL = date(2027, 3, 28), date(2027, 10, 31)
HALF_HOURLY = Rules(step_minutes=30, min_notice_minutes=0, horizon_days=1000)


@pytest.mark.parametrize(
    ("tz", "change", "before", "after"),
    [
        (NEW_YORK, NY_SPRING, timedelta(hours=-5), timedelta(hours=-4)),
        (NEW_YORK, NY_FALL, timedelta(hours=-4), timedelta(hours=-5)),
        (LONDON, LONDON_SPRING, timedelta(0), timedelta(hours=1)),
        (LONDON, LONDON_FALL, timedelta(hours=1), timedelta(0)),
    ],
)
def test_ten_oclock_stays_ten_oclock_across_a_change(tz, change, before, after):
    found = slots(
        tz=tz,
        providers=[provider(hours=every_day(time(10), time(11)))],
        first_day=change - timedelta(days=1),
        last_day=change + timedelta(days=1),
    )

    assert [(slot.start.strftime("%m-%d %H:%M"), slot.start.utcoffset()) for slot in found] == [
        ((change - timedelta(days=1)).strftime("%m-%d 10:00"), before),
        (change.strftime("%m-%d 10:00"), after),
        ((change + timedelta(days=1)).strftime("%m-%d 10:00"), after),
    ]
    assert found[0].start == datetime.combine(found[0].start.date(), time(10), UTC) - before


def test_an_interval_across_fall_back_is_measured_in_real_time():
    # 01:10 EDT (05:10 UTC) to 01:00 EST (06:00 UTC): fifty minutes, though 01:00 < 01:10.
    interval = Interval(
        local(NY_FALL, 1, 10, tz=NEW_YORK), local(NY_FALL, 1, 0, tz=NEW_YORK, fold=1)
    )

    assert interval.end.timestamp() - interval.start.timestamp() == 50 * 60
    with pytest.raises(ValueError):
        Interval(interval.end, interval.start)


def test_new_york_spring_skips_missing_times_and_counts_real_minutes():
    hours = every_day(time(1), time(4))  # 06:00 UTC to 08:00 UTC: two real hours

    half_hour = slots(
        tz=NEW_YORK,
        providers=[provider(hours=hours)],
        first_day=NY_SPRING,
        timing=Timing(30),
        rules=HALF_HOURLY,
    )
    ninety = slots(
        tz=NEW_YORK,
        providers=[provider(hours=hours)],
        first_day=NY_SPRING,
        timing=Timing(90),
        rules=HALF_HOURLY,
    )

    assert walls(half_hour) == ["01:00", "01:30", "03:00", "03:30"]
    assert [slot.start.astimezone(UTC).hour for slot in half_hour] == [6, 6, 7, 7]
    assert walls(ninety) == ["01:00", "01:30"]
    assert ninety[-1].end.strftime("%H:%M %Z") == "04:00 EDT"


def test_new_york_spring_hours_ending_in_the_gap_end_when_the_gap_ends():
    hours = every_day(time(1), time(2, 30))  # 02:30 does not exist: closes at 03:00 EDT, 07:00 UTC

    found = slots(
        tz=NEW_YORK,
        providers=[provider(hours=hours)],
        first_day=NY_SPRING,
        timing=Timing(30),
        rules=HALF_HOURLY,
    )

    assert walls(found) == ["01:00", "01:30"]


def test_new_york_fall_offers_ambiguous_times_once_and_counts_real_minutes():
    hours = every_day(time(0), time(3))  # 04:00 UTC to 08:00 UTC: four real hours

    half_hour = slots(
        tz=NEW_YORK,
        providers=[provider(hours=hours)],
        first_day=NY_FALL,
        timing=Timing(30),
        rules=HALF_HOURLY,
    )
    long = slots(
        tz=NEW_YORK,
        providers=[provider(hours=hours)],
        first_day=NY_FALL,
        timing=Timing(210),
        rules=HALF_HOURLY,
    )

    assert walls(half_hour) == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    ambiguous = [slot for slot in half_hour if slot.start.hour == 1]
    assert [(slot.start.fold, slot.start.strftime("%Z")) for slot in ambiguous] == [
        (0, "EDT"),
        (0, "EDT"),
    ]
    assert walls(long) == ["00:00", "00:30"]


def test_london_spring_skips_missing_times():
    found = slots(
        tz=LONDON,
        providers=[provider(hours=every_day(time(0), time(3)))],
        first_day=LONDON_SPRING,
        timing=Timing(30),
        rules=HALF_HOURLY,
    )

    assert walls(found) == ["00:00", "00:30", "02:00", "02:30"]
    assert [slot.start.strftime("%Z") for slot in found] == ["GMT", "GMT", "BST", "BST"]


def test_london_fall_offers_ambiguous_times_once():
    found = slots(
        tz=LONDON,
        providers=[provider(hours=every_day(time(0), time(3)))],
        first_day=LONDON_FALL,
        timing=Timing(30),
        rules=HALF_HOURLY,
    )

    assert walls(found) == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    assert [slot.start.astimezone(UTC).strftime("%d %H:%M") for slot in found] == [
        "30 23:00",
        "30 23:30",
        "31 00:00",
        "31 00:30",
        "31 02:00",
        "31 02:30",
    ]
    assert all(slot.start.fold == 0 for slot in found)


# --- is_free ---------------------------------------------------------------------------------


def check(start: datetime, **overrides):
    arguments = {
        "timing": Timing(60),
        "tz": ZULU,
        "provider": provider(),
        "rooms": [room()],
        "now": LONG_AGO,
        "rules": NO_NOTICE,
    }
    return is_free(start, **(arguments | overrides))


def test_is_free_returns_the_slot_free_slots_would_offer():
    assert check(local(MONDAY, 10)) == slots()[4]
    assert check(local(MONDAY, 10).astimezone(NEW_YORK)) == slots()[4]


def test_is_free_refuses_what_free_slots_would_not_offer():
    taken = busy(MONDAY, (10, 0), (11, 0))

    assert check(local(MONDAY, 10), provider=provider(busy=(taken,))) is None
    assert check(local(MONDAY, 10), rooms=[room(busy=(taken,))]) is None
    assert check(local(MONDAY, 16, 15)) is None
    assert check(local(MONDAY, 8, 45)) is None
    assert check(local(MONDAY, 10), now=local(MONDAY, 9), rules=Rules()) is None


def test_is_free_needs_the_step_unless_staff_say_otherwise():
    start = local(MONDAY, 10, 5)

    assert check(start) is None
    assert check(start, require_step=False) == Slot(start, local(MONDAY, 11, 5), 1, 1)
    assert check(start.replace(second=30), require_step=False) is None


def test_is_free_offers_only_the_first_of_an_ambiguous_time_unless_staff_say_otherwise():
    hours = every_day(time(0), time(3))
    first = local(NY_FALL, 1, 30, tz=NEW_YORK)  # 05:30 UTC, EDT
    second = local(NY_FALL, 1, 30, tz=NEW_YORK, fold=1)  # 06:30 UTC, EST
    arguments = {"tz": NEW_YORK, "provider": provider(hours=hours), "timing": Timing(30)}

    assert check(first, **arguments).start.utcoffset() == timedelta(hours=-4)
    assert check(second, **arguments) is None
    assert check(second, require_step=False, **arguments).start.utcoffset() == timedelta(hours=-5)


# --- properties ------------------------------------------------------------------------------

# Each zone with the days around its changes, so spans often cross them.
ZONE_DAYS = [
    (NEW_YORK, NY_SPRING - timedelta(days=1)),
    (NEW_YORK, NY_SPRING),
    (NEW_YORK, NY_FALL - timedelta(days=1)),
    (NEW_YORK, NY_FALL),
    (LONDON, LONDON_SPRING - timedelta(days=1)),
    (LONDON, LONDON_SPRING),
    (LONDON, LONDON_FALL - timedelta(days=1)),
    (LONDON, LONDON_FALL),
    (ZULU, MONDAY),
]
# Minutes of the day, often near the 01:00-03:00 changes.
WALL_MINUTES = st.one_of(st.integers(0, 1438), st.integers(0, 240))
MINUTES = st.integers(0, 240)


@st.composite
def scenarios(draw, max_days: int = 2, max_busy: int = 6):
    tz, first_day = draw(st.sampled_from(ZONE_DAYS))
    last_day = first_day + timedelta(days=draw(st.integers(0, max_days)))
    window_start = datetime.combine(first_day, time(0), UTC) - timedelta(hours=12)
    window_minutes = ((last_day - first_day).days + 2) * 24 * 60

    def interval():
        # Mostly on a 5-minute grid, so busy time often touches a candidate exactly.
        start = window_start + timedelta(minutes=5 * draw(st.integers(0, window_minutes // 5)))
        start += timedelta(seconds=draw(st.sampled_from([0, 0, 0, 30])))
        length = timedelta(minutes=draw(st.sampled_from([0, 15, 30, 60, draw(MINUTES)])))
        zone = draw(st.sampled_from([UTC, tz]))
        return Interval(start.astimezone(zone), (start + length).astimezone(zone))

    def block():
        start = draw(WALL_MINUTES)
        end = draw(
            st.integers(start + 1, min(1439, start + draw(st.sampled_from([60, 240, 1439]))))
        )
        weekday = draw(st.sampled_from([first_day.weekday(), draw(st.integers(0, 6))]))
        return WeeklyHours(weekday, time(*divmod(start, 60)), time(*divmod(end, 60)))

    providers = [
        ProviderSchedule(
            provider_id,
            tuple(block() for _ in range(draw(st.integers(0, 3)))),
            tuple(interval() for _ in range(draw(st.integers(0, max_busy)))),
        )
        for provider_id in range(1, draw(st.integers(1, 3)) + 1)
    ]
    room_ids = draw(st.lists(st.integers(1, 9), min_size=0, max_size=3, unique=True))
    rooms = [
        RoomSchedule(room_id, tuple(interval() for _ in range(draw(st.integers(0, max_busy)))))
        for room_id in room_ids
    ]
    timing = Timing(
        duration_minutes=draw(st.sampled_from([30, 60, 90, draw(MINUTES) + 1])),
        numbing_minutes=draw(st.sampled_from([0, 20, 30, draw(st.integers(0, 45))])),
        cleanup_minutes=draw(st.sampled_from([0, 15, draw(st.integers(0, 30))])),
    )
    rules = Rules(
        step_minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 60, 45])),
        min_notice_minutes=draw(st.integers(0, 600)),
        horizon_days=draw(st.integers(0, 3)),
    )
    now = window_start + timedelta(minutes=draw(st.integers(-1440, window_minutes)))
    now += timedelta(seconds=draw(st.sampled_from([0, 0, 0, 1])))
    return {
        "timing": timing,
        "tz": tz,
        "providers": providers,
        "rooms": rooms,
        "first_day": first_day,
        "last_day": last_day,
        "now": now,
        "rules": rules,
    }


def overlaps(start: datetime, end: datetime, interval: Interval) -> bool:
    """Whether two half-open intervals share an instant (an empty one shares none)."""
    # In UTC, since Python compares datetimes sharing a zone by wall-clock time.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    busy_start, busy_end = interval.start.astimezone(UTC), interval.end.astimezone(UTC)
    return busy_start < busy_end and start < busy_end and busy_start < end


def instants_of_day(day: date, tz: ZoneInfo) -> list[datetime]:
    """Every whole-minute instant whose local date is ``day``, in order, in ``tz``."""
    midnight = datetime.combine(day, time(0), UTC)
    everything = (midnight + timedelta(minutes=n) for n in range(-15 * 60, 39 * 60))
    return [m.astimezone(tz) for m in everything if m.astimezone(tz).date() == day]


def reference(scenario) -> list[Slot]:
    """free_slots written minute by minute, as plainly as possible."""
    timing, tz, rules, now = scenario["timing"], scenario["tz"], scenario["rules"], scenario["now"]
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    latest = now + timedelta(days=rules.horizon_days)
    found = []
    day = scenario["first_day"]
    while day <= scenario["last_day"]:
        minutes = instants_of_day(day, tz)
        # A block ends at the first instant whose wall-clock time is at or after its end.
        ends = {
            block.end: next(m for m in minutes if m.time() >= block.end).astimezone(UTC)
            for p in scenario["providers"]
            for block in p.hours
        }
        for wall in minutes:
            if wall.fold == 1 or (wall.hour * 60 + wall.minute) % rules.step_minutes:
                continue
            start = wall.astimezone(UTC)  # arithmetic on a zone's datetimes is wall-clock
            if not earliest <= start <= latest:
                continue
            patient_end = start + timedelta(
                minutes=timing.numbing_minutes + timing.duration_minutes
            )
            held_until = patient_end + timedelta(minutes=timing.cleanup_minutes)
            provider_start = start + timedelta(minutes=timing.numbing_minutes)
            free_rooms = [
                r.room_id
                for r in scenario["rooms"]
                if not any(overlaps(start, held_until, b) for b in r.busy)
            ]
            if not free_rooms:
                continue
            for p in scenario["providers"]:
                inside = any(
                    block.weekday == day.weekday()
                    and wall.time() >= block.start
                    and patient_end <= ends[block.end]
                    for block in p.hours
                )
                if inside and not any(overlaps(provider_start, held_until, b) for b in p.busy):
                    end = patient_end.astimezone(UTC).astimezone(tz)
                    found.append(Slot(wall, end, p.provider_id, min(free_rooms)))
        day += timedelta(days=1)
    return sorted(found, key=lambda slot: (slot.start.astimezone(UTC), slot.provider_id))


def described(found: list[Slot]) -> list[tuple]:
    return [
        (slot.start.isoformat(), slot.end.isoformat(), slot.provider_id, slot.room_id)
        for slot in found
    ]


PROPERTY = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(scenarios())
def test_free_slots_agree_with_a_minute_by_minute_reference(scenario):
    assert described(free_slots(**scenario)) == described(reference(scenario))


@PROPERTY
@given(scenarios(max_days=6, max_busy=30))
def test_no_slot_overlaps_busy_time_or_leaves_working_hours(scenario):
    timing, tz, rules = scenario["timing"], scenario["tz"], scenario["rules"]
    providers = {p.provider_id: p for p in scenario["providers"]}

    found = free_slots(**scenario)

    order = [(slot.start.timestamp(), slot.provider_id) for slot in found]
    assert order == sorted(set(order))
    for slot in found:
        room_held, provider_held = holds(slot.start, timing)
        day = slot.start.date()
        assert slot.start.tzinfo is tz and slot.start.fold == 0 and slot.start.second == 0
        assert (slot.start.hour * 60 + slot.start.minute) % rules.step_minutes == 0
        assert scenario["first_day"] <= day <= scenario["last_day"]
        cleanup = timing.cleanup_minutes * 60
        assert slot.end.timestamp() == room_held.end.timestamp() - cleanup
        assert not any(overlaps(*held(provider_held), b) for b in providers[slot.provider_id].busy)
        for r in scenario["rooms"]:
            blocked = any(overlaps(*held(room_held), b) for b in r.busy)
            assert blocked if r.room_id < slot.room_id else r.room_id > slot.room_id or not blocked
        # fold=0 reads a missing end time after the gap, so it bounds the block from above.
        assert any(
            block.weekday == day.weekday()
            and block.start <= slot.start.time()
            and slot.end.timestamp() <= datetime.combine(day, block.end, tz).timestamp()
            for block in providers[slot.provider_id].hours
        )


@PROPERTY
@given(scenarios(max_days=1))
def test_is_free_agrees_with_free_slots(scenario):
    found = free_slots(**scenario)
    offered = {(slot.start.isoformat(), slot.provider_id): slot for slot in found}
    step = scenario["rules"].step_minutes
    arguments = {k: scenario[k] for k in ("timing", "tz", "rooms", "now", "rules")}

    day = scenario["first_day"]
    while day <= scenario["last_day"]:
        for start in instants_of_day(day, scenario["tz"]):
            if (start.hour * 60 + start.minute) % step:
                continue
            for p in scenario["providers"]:
                expected = offered.get((start.isoformat(), p.provider_id))
                answer = is_free(start, provider=p, **arguments)
                assert described([answer] if answer else []) == described(
                    [expected] if expected else []
                )
        day += timedelta(days=1)


def held(interval: Interval) -> tuple[datetime, datetime]:
    return interval.start, interval.end


# Grouped by time (issue 16) ----------------------------------------------------------------


def test_free_times_list_each_start_once_with_everyone_free_then():
    ten_to_eleven = busy(MONDAY, (10, 0), (11, 0))
    nine_to_noon = every_day(time(9), time(12))

    found = free_times(
        timing=ONE_HOUR,
        tz=ZULU,
        providers=[provider(2, nine_to_noon), provider(1, nine_to_noon, busy=(ten_to_eleven,))],
        rooms=[room(5), room(3)],
        first_day=MONDAY,
        last_day=MONDAY,
        now=LONG_AGO,
        rules=Rules(step_minutes=60, min_notice_minutes=0, horizon_days=1000),
    )

    assert found == [
        FreeTime(local(MONDAY, 9), local(MONDAY, 10), (1, 2), 3),
        FreeTime(local(MONDAY, 10), local(MONDAY, 11), (2,), 3),
        FreeTime(local(MONDAY, 11), local(MONDAY, 12), (1, 2), 3),
    ]


def test_free_slots_are_free_times_one_per_aesthetician():
    nine_to_noon = every_day(time(9), time(12))
    providers = [provider(1, nine_to_noon), provider(2, every_day(time(10), time(12)))]

    found = slots(
        providers=providers, rules=Rules(step_minutes=60, min_notice_minutes=0, horizon_days=1000)
    )

    assert [(s.start.hour, s.provider_id) for s in found] == [
        (9, 1),
        (10, 1),
        (10, 2),
        (11, 1),
        (11, 2),
    ]


def _to_old(scenario):
    """The same scenario in the old engine's own classes."""
    old = availability_before
    return {
        **scenario,
        "timing": old.Timing(**vars(scenario["timing"])),
        "rules": old.Rules(**vars(scenario["rules"])),
        "providers": [
            old.ProviderSchedule(
                p.provider_id,
                tuple(old.WeeklyHours(b.weekday, b.start, b.end) for b in p.hours),
                tuple(old.Interval(i.start, i.end) for i in p.busy),
            )
            for p in scenario["providers"]
        ],
        "rooms": [
            old.RoomSchedule(r.room_id, tuple(old.Interval(i.start, i.end) for i in r.busy))
            for r in scenario["rooms"]
        ],
    }


def _expanded(found: list[FreeTime]) -> list[tuple]:
    return [
        (free.start.isoformat(), free.end.isoformat(), provider_id, free.room_id)
        for free in found
        for provider_id in free.provider_ids
    ]


@PROPERTY
@given(scenarios(max_days=6, max_busy=30))
def test_grouped_ungrouped_and_the_old_engine_agree(scenario):
    grouped = free_times(**scenario)
    ungrouped = free_slots(**scenario)
    old = availability_before.free_slots(**_to_old(scenario))

    assert _expanded(grouped) == described(ungrouped) == described(old)
    starts = [free.start.timestamp() for free in grouped]
    assert starts == sorted(set(starts))
    assert all(free.provider_ids for free in grouped)
    assert all(list(f.provider_ids) == sorted(set(f.provider_ids)) for f in grouped)


@PROPERTY
@given(scenarios(max_days=2, max_busy=6))
def test_grouped_times_agree_with_the_minute_by_minute_reference(scenario):
    assert _expanded(free_times(**scenario)) == described(reference(scenario))


@PROPERTY
@given(scenarios(max_days=3, max_busy=12), st.data())
def test_busy_time_in_whole_seconds_rounded_outward_changes_nothing(scenario, data):
    """What the database layer sends: epoch seconds, starts rounded down and ends up."""
    fraction = st.integers(0, 999_999).map(lambda n: timedelta(microseconds=n))

    def blurred(spans):  # busy time off the whole second, as a database may hold it
        moved = [(i.start + data.draw(fraction), i.end + data.draw(fraction)) for i in spans]
        return tuple(Interval(a, b) for a, b in moved if b.timestamp() > a.timestamp())

    def rounded(spans):
        return tuple((math.floor(i.start.timestamp()), math.ceil(i.end.timestamp())) for i in spans)

    providers = [replace(p, busy=blurred(p.busy)) for p in scenario["providers"]]
    rooms = [replace(r, busy=blurred(r.busy)) for r in scenario["rooms"]]
    as_held = {**scenario, "providers": providers, "rooms": rooms}
    as_loaded = {
        **scenario,
        "providers": [replace(p, busy=rounded(p.busy)) for p in providers],
        "rooms": [replace(r, busy=rounded(r.busy)) for r in rooms],
    }

    assert free_times(**as_loaded) == free_times(**as_held)


# --- closed days -----------------------------------------------------------------------------


def test_a_closed_day_has_no_working_hours_in_the_locations_zone():
    tuesday = MONDAY + timedelta(days=1)
    # New York days: Monday's late hours reach past UTC midnight, into Tuesday's UTC date.
    late = every_day(time(18), time(22))
    found = free_slots(
        timing=ONE_HOUR,
        tz=NEW_YORK,
        providers=[provider(hours=late)],
        rooms=[room()],
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=2),
        now=LONG_AGO,
        rules=NO_NOTICE,
        closed_days={tuesday},
    )

    days = {slot.start.date() for slot in found}
    assert days == {MONDAY, MONDAY + timedelta(days=2)}
    assert walls([s for s in found if s.start.date() == MONDAY])[-1] == "21:00"


def test_free_times_and_is_free_skip_a_closed_day_even_for_staff():
    closed = {MONDAY}

    assert (
        free_times(
            timing=ONE_HOUR,
            tz=ZULU,
            providers=[provider()],
            rooms=[room()],
            first_day=MONDAY,
            last_day=MONDAY,
            now=LONG_AGO,
            rules=NO_NOTICE,
            closed_days=closed,
        )
        == []
    )
    assert check(local(MONDAY, 10), closed_days=closed) is None
    assert check(local(MONDAY, 10, 5), require_step=False, closed_days=closed) is None
    assert check(local(MONDAY, 10), closed_days={MONDAY + timedelta(days=1)}) is not None
