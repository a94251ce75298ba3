"""iCalendar (RFC 5545) files for visits, so a patient can add them to their calendar.

Built on the ``icalendar`` package, which does the escaping, the 75-octet folding and the CRLF
line ends. Events are written on the location's wall clock (``DTSTART;TZID=America/New_York:...``)
with a VTIMEZONE, made by ``icalendar`` from the zone database, describing that zone's offsets
from a year before the first event to a year after the last, so a calendar shows the clinic's
10:00 even when the phone is in another zone. Without a zone, times are UTC ('Z'). DTSTAMP is
always UTC. UIDs are stable (``appointment-<pk>@skinclinic``), so a new download updates the
entry it replaced.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

__all__ = ["Event", "calendar", "event", "for_appointment", "for_appointments", "visit_event"]

# How far around the events the VTIMEZONE's observances reach.
_ZONE_MARGIN = timedelta(days=366)


@dataclass(frozen=True)
class Event:
    """One visit. ``start`` and ``end`` are aware; ``tz`` is the zone to write them in."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str = ""
    description: str = ""
    sequence: int = 0
    cancelled: bool = False
    tz: ZoneInfo | None = None


def _vevent(e: Event, *, stamp: datetime) -> icalendar.Event:
    zone = e.tz or UTC
    vevent = icalendar.Event()
    vevent.add("uid", e.uid)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", e.start.astimezone(zone))
    vevent.add("dtend", e.end.astimezone(zone))
    vevent.add("sequence", e.sequence)
    vevent.add("summary", e.summary)
    if e.location:
        vevent.add("location", e.location)
    if e.description:
        vevent.add("description", e.description)
    vevent.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
    return vevent


def calendar(
    events: Sequence[Event], *, stamp: datetime, name: str = "", refresh: timedelta | None = None
) -> str:
    """A VCALENDAR holding ``events``; ``stamp`` (aware) is when it was made. A subscription
    feed gives its ``name`` (X-WR-CALNAME) and how often to poll it (``refresh``), and is
    always PUBLISH: its cancelled visits stay in it, marked CANCELLED."""
    cancelled = bool(events) and all(e.cancelled for e in events) and refresh is None
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", "-//skinclinic//bookings//EN")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    if refresh is not None:
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", refresh)
    for e in events:
        cal.add_component(_vevent(e, stamp=stamp))
    zoned = [e for e in events if e.tz is not None]
    if zoned:
        cal.add_missing_timezones(
            first_date=(min(e.start for e in zoned) - _ZONE_MARGIN).date(),
            last_date=(max(e.end for e in zoned) + _ZONE_MARGIN).date(),
        )
    return cal.to_ical().decode()


def event(
    *,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    location: str = "",
    description: str = "",
    stamp: datetime,
    sequence: int = 0,
    cancelled: bool = False,
    tz: ZoneInfo | None = None,
) -> str:
    """A VCALENDAR with one VEVENT. `start`, `end` and `stamp` are aware datetimes."""
    return calendar(
        [Event(uid, start, end, summary, location, description, sequence, cancelled, tz)],
        stamp=stamp,
    )


def visit_event(appointment, *, stamp: datetime, sequence: int | None = None) -> Event:
    """The patient's view of one visit. ``sequence`` defaults to one derived from ``stamp``
    (each download supersedes the last); a feed passes the visit's own counter."""
    location = appointment.location
    summary = f"{appointment.treatment.name} at {location.name}"
    if appointment.plan_id and appointment.session_number:
        summary += f" (session {appointment.session_number} of {appointment.plan.sessions})"
    details = [f"Questions or changes: {location.phone}"] if location.phone else []
    if appointment.treatment.precare:
        details.append("Before your visit: " + appointment.treatment.precare)
    return Event(
        uid=f"appointment-{appointment.pk}@skinclinic",
        start=appointment.start,
        end=appointment.end,
        summary=summary,
        location=", ".join(part for part in (location.name, location.address) if part),
        description="\n\n".join(details),
        # Each download supersedes the last, so a moved visit updates the calendar entry.
        sequence=int(stamp.timestamp()) // 60 % 2**31 if sequence is None else sequence,
        cancelled=appointment.status == "cancelled",
        tz=location.zone,
    )


def for_appointment(appointment, *, stamp: datetime) -> str:
    """A VCALENDAR for one visit, on its location's wall clock."""
    return calendar([visit_event(appointment, stamp=stamp)], stamp=stamp)


def for_appointments(appointments: Iterable, *, stamp: datetime) -> str:
    """One VCALENDAR for several visits (a whole course)."""
    return calendar([visit_event(a, stamp=stamp) for a in appointments], stamp=stamp)
