"""Dates and times as patients read them, in the active language.

Django's date filter translates month and day names but keeps the English order ("martes,
diciembre 3"); these formats are themselves translated (pgettext, context "date format"), so
Spanish reads "martes 3 de diciembre de 2026" and "11:00". Every message and patient page uses
these instead of a format string of its own.
"""

from datetime import date, datetime, time

from django.utils import dateformat
from django.utils.translation import pgettext


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
    return dateformat.time_format(value, fmt) if value else ""
