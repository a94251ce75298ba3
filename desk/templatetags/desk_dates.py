"""`{{ value|when:zone }}`: an instant as the desk reads it, "Thu 3 Dec, 11:00", on the wall
clock of ``zone`` (an IANA name). Audit changes store instants as ISO strings
("2026-12-03T11:00:00-05:00"); those are read back and shown the same way. Anything else
(a name, a status, a plain date) is returned as it is. Without a zone, the current one."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import dateformat, timezone

register = template.Library()

HUMAN = "D j M, H:i"  # day and month names in the active language


def human_instant(value: object, zone: str | None) -> object:
    """``value`` as "Thu 3 Dec, 11:00" if it is an aware instant (or its ISO text)."""
    instant = value
    if isinstance(value, str) and "T" in value and len(value) >= 16:
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(instant, datetime) or instant.tzinfo is None:
        return value
    try:
        tz = ZoneInfo(zone) if zone else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        tz = timezone.get_current_timezone()
    return dateformat.format(instant.astimezone(tz), HUMAN)


@register.filter
def when(value, zone: str | None = None):
    return human_instant(value, zone)
