"""Dates and times as patients read them, in the active language.

Django's date filter translates month and day names but keeps the English order ("martes,
diciembre 3"); these formats are themselves translated (pgettext, context "date format"), so
Spanish reads "martes 3 de diciembre de 2026" and "11:00". Every message and patient page uses
these instead of a format string of its own.
"""

from datetime import date, datetime, time
from functools import lru_cache

from django.utils import dateformat
from django.utils.translation import get_language, pgettext


def _format(value: date | datetime | None, fmt: str) -> str:
    return dateformat.format(value, fmt) if value else ""


def long_date(value: date | datetime | None) -> str:
    """Tuesday, December 3, 2026."""
    return _format(value, pgettext("date format: Tuesday, December 3, 2026", "l, F j, Y"))


def full_date(value: date | datetime | None) -> str:
    """December 3, 2026."""
    return _format(value, pgettext("date format: December 3, 2026", "F j, Y"))


def weekday_date(value: date | datetime | None) -> str:
    """Tuesday, December 3."""
    return _format(value, pgettext("date format: Tuesday, December 3", "l, F j"))


def month_day(value: date | datetime | None) -> str:
    """December 3."""
    return _format(value, pgettext("date format: December 3", "F j"))


def abbr_month_day(value: date | datetime | None) -> str:
    """Dec 3 (a window of days in a sentence)."""
    return _format(value, pgettext("date format: Dec 3", "M j"))


def abbr_date(value: date | datetime | None) -> str:
    """Dec 3, 2026."""
    return _format(value, pgettext("date format: Dec 3, 2026", "M j, Y"))


def abbr_weekday_date(value: date | datetime | None) -> str:
    """Tue, Dec 3 (a week of free times)."""
    return _format(value, pgettext("date format: Tue, Dec 3", "D, M j"))


def compact_date(value: date | datetime | None) -> str:
    """Tue, Dec 3, 2026 (a list of visits)."""
    return _format(value, pgettext("date format: Tue, Dec 3, 2026", "D, M j, Y"))


def short_date(value: date | datetime | None) -> str:
    """Tue Dec 3 (an SMS has little room)."""
    return _format(value, pgettext("date format: Tue Dec 3", "D M j"))


def clock(value: datetime | time | None) -> str:
    """11:00 AM."""
    fmt = pgettext("time format: 11:00 AM", "g:i A")
    if not value:
        return ""
    if _reads_only_the_time_of_day(fmt):
        wall = value.time() if isinstance(value, datetime) else value.replace(tzinfo=None)
        return _time_of_day(wall, fmt, get_language())
    return dateformat.time_format(value, fmt)


# Time format characters whose text depends only on the wall-clock time (and the language: AM,
# p.m., noon): not on the date or the zone (e, O, T, Z) like the rest.
_TIME_OF_DAY = frozenset("aAfgGhHiPsu")


@lru_cache(maxsize=64)
def _reads_only_the_time_of_day(fmt: str) -> bool:
    return all(char in _TIME_OF_DAY for char in fmt if char.isalpha())


@lru_cache(maxsize=4096)
def _time_of_day(wall: time, fmt: str, language: str | None) -> str:
    """A week of free times shows each clock time dozens of times: each is formatted once per
    language and format (Django's formatter looks the zone up again on every call)."""
    return dateformat.time_format(wall, fmt)
