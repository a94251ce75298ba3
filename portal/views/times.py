"""Free times and opening hours: the locations page, and the week of free times that the
booking flow, rescheduling and a course's next session all show (?week= pages through it,
htmx swaps only the week)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.shortcuts import render
from django.utils.dates import WEEKDAYS

from accounts.landing import BOOKING_DRAFT
from booking import availability, queries
from booking.models import Location, WorkingHours
from booking.routing import reads_from_replica
from treatments.models import Treatment

ANY = "any"  # ?with=any: whichever aesthetician is free
DAYS_SHOWN = 7


# --- Opening hours and the locations page -------------------------------------------------


def opening_hours(location: Location) -> list[tuple[str, list[tuple[time, time]]]]:
    """Weekday name (in the active language) -> the merged spans when at least one aesthetician
    works here."""
    spans: dict[int, list[tuple[time, time]]] = {day: [] for day in range(7)}
    for hours in WorkingHours.objects.filter(location=location, provider__is_active=True):
        spans[hours.weekday].append((hours.start_time, hours.end_time))
    result = []
    for day in range(7):
        merged: list[tuple[time, time]] = []
        for start, end in sorted(spans[day]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        result.append((str(WEEKDAYS[day]), merged))
    return result


def locations(request):
    places = [(location, opening_hours(location)) for location in Location.objects.all()]
    return render(request, "portal/locations.html", {"places": places})


# --- Weeks of free times ----------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """A week of free times to show, with links to the weeks either side (None: none)."""

    days: list[tuple[date, list[availability.FreeTime]]]
    first_day: date
    previous_url: str | None
    next_url: str | None


def parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _draft_token(request) -> str | None:
    token = request.session.get(BOOKING_DRAFT)
    return token if isinstance(token, str) else None


def free_slots(
    *,
    treatment: Treatment,
    location: Location,
    provider_id: int | None,
    first_day: date,
    last_day: date,
    now: datetime,
    exclude_appointment_id: int | None = None,
    exclude_draft: str | None = None,
) -> list[availability.FreeTime]:
    """Distinct free starts for patients, each with the aestheticians free then (only the
    chosen one, when there is one). Booking a start picks one of them, as the services do.
    Read from the replica when there is one (the booking itself re-checks on the primary)."""
    with reads_from_replica():
        schedules = queries.load_schedules(
            treatment=treatment,
            location=location,
            first_day=first_day,
            last_day=last_day,
            provider_ids=[provider_id] if provider_id else None,
            exclude_appointment_id=exclude_appointment_id,
            now=now,
            exclude_draft=exclude_draft,
        )
    return schedules.free_times(first_day, last_day, now=now)


def build_week(
    request,
    *,
    treatment: Treatment,
    location: Location,
    provider_id: int | None,
    now: datetime,
    window: tuple[date, date] | None = None,
    exclude_appointment_id: int | None = None,
) -> Week:
    """The week starting at ?week= (default: the first bookable day), kept inside `window`."""
    today = location.local(now).date()
    earliest = max(today, window[0]) if window else today
    latest = min(
        today + timedelta(days=location.booking_horizon_days), window[1] if window else date.max
    )
    first_day = parse_day(request.GET.get("week")) or earliest
    first_day = min(max(first_day, earliest), max(latest, earliest))
    last_day = min(first_day + timedelta(days=DAYS_SHOWN - 1), latest)
    slots = (
        free_slots(
            treatment=treatment,
            location=location,
            provider_id=provider_id,
            first_day=first_day,
            last_day=last_day,
            now=now,
            exclude_appointment_id=exclude_appointment_id,
            # The patient's own held time stays on offer to them.
            exclude_draft=_draft_token(request),
        )
        if first_day <= last_day
        else []
    )
    by_day: dict[date, list[availability.FreeTime]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)

    def link(day: date) -> str:
        query = request.GET.copy()
        query["week"] = day.isoformat()
        return f"{request.path}?{query.urlencode()}"

    previous_day = max(first_day - timedelta(days=DAYS_SHOWN), earliest)
    next_day = first_day + timedelta(days=DAYS_SHOWN)
    return Week(
        days=sorted(by_day.items()),
        first_day=first_day,
        previous_url=link(previous_day) if first_day > earliest else None,
        next_url=link(next_day) if next_day <= latest else None,
    )


def render_week(request, template: str, context: dict, *, location: Location):
    """The whole page, or only the week when htmx asks for it."""
    context["zone_name"] = location.time_zone
    if request.htmx:
        return render(request, "portal/_week.html", context)
    return render(request, template, context)
