"""iCalendar (RFC 5545) files for visits, so a patient can add them to their calendar.

Events are written on the location's wall clock (``DTSTART;TZID=America/New_York:...``) with a
VTIMEZONE describing that zone's offsets around the events, so a calendar shows the clinic's
10:00 even when the phone is in another zone. Without a zone, times are UTC ('Z'). DTSTAMP is
always UTC. Lines end in CRLF and are folded at 75 octets.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)


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


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, continuation lines start with a
    space (RFC 5545 3.1); never split inside a UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _transitions(tz: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """UTC instants in [first, last] where ``tz`` changes its offset (found to the second)."""
    found = []
    moment = first.astimezone(UTC)
    while moment < last:
        following = min(moment + _DAY, last)
        if moment.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = moment.timestamp(), following.timestamp()
            before = moment.astimezone(tz).utcoffset()
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            found.append(datetime.fromtimestamp(high, UTC))
        moment = following
    return found


def _observance(tz: ZoneInfo, instant: datetime, offset_from: timedelta) -> list[str]:
    local = instant.astimezone(tz)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    onset = (instant + offset_from).replace(tzinfo=None)  # wall clock before the change
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{onset:%Y%m%dT%H%M%S}",
        f"TZOFFSETFROM:{_offset(offset_from)}",
        f"TZOFFSETTO:{_offset(local.utcoffset())}",
        f"TZNAME:{local.tzname()}",
        f"END:{kind}",
    ]


def vtimezone(tz: ZoneInfo, first: datetime, last: datetime) -> list[str]:
    """A VTIMEZONE for ``tz`` valid from a year before ``first`` to a year after ``last``:
    one observance at the start, then one per offset change (no RRULEs to get wrong)."""
    start = (first - timedelta(days=366)).astimezone(UTC).replace(second=0, microsecond=0)
    end = last + timedelta(days=366)
    lines = [f"TZID:{tz.key}"]
    lines += _observance(tz, start, start.astimezone(tz).utcoffset())
    for change in _transitions(tz, start, end):
        before = (change - timedelta(seconds=1)).astimezone(tz).utcoffset()
        lines += _observance(tz, change, before)
    return ["BEGIN:VTIMEZONE", *lines, "END:VTIMEZONE"]


def _when(name: str, instant: datetime, tz: ZoneInfo | None) -> str:
    if tz is None:
        return f"{name}:{_utc(instant)}"
    return f"{name};TZID={tz.key}:{instant.astimezone(tz):%Y%m%dT%H%M%S}"


def calendar(events: Sequence[Event], *, stamp: datetime) -> str:
    """A VCALENDAR holding ``events``; ``stamp`` (aware) is when it was made."""
    cancelled = bool(events) and all(e.cancelled for e in events)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//skinclinic//bookings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:" + ("CANCEL" if cancelled else "PUBLISH"),
    ]
    zones: dict[str, list[Event]] = {}
    for e in events:
        if e.tz is not None:
            zones.setdefault(e.tz.key, []).append(e)
    for same_zone in zones.values():
        lines += vtimezone(
            same_zone[0].tz,
            min(e.start for e in same_zone),
            max(e.end for e in same_zone),
        )
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{_utc(stamp)}",
            _when("DTSTART", e.start, e.tz),
            _when("DTEND", e.end, e.tz),
            f"SEQUENCE:{e.sequence}",
            f"SUMMARY:{_escape(e.summary)}",
        ]
        if e.location:
            lines.append(f"LOCATION:{_escape(e.location)}")
        if e.description:
            lines.append(f"DESCRIPTION:{_escape(e.description)}")
        lines += ["STATUS:" + ("CANCELLED" if e.cancelled else "CONFIRMED"), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


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


def _event_for(appointment, *, stamp: datetime) -> Event:
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
        sequence=int(stamp.timestamp()) // 60 % 2**31,
        cancelled=appointment.status == "cancelled",
        tz=location.zone,
    )


def for_appointment(appointment, *, stamp: datetime) -> str:
    return calendar([_event_for(appointment, stamp=stamp)], stamp=stamp)


def for_appointments(appointments: Iterable, *, stamp: datetime) -> str:
    return calendar([_event_for(a, stamp=stamp) for a in appointments], stamp=stamp)
