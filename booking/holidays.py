"""US federal holidays a clinic usually closes for, computed with the standard library."""

import calendar
from datetime import date, timedelta


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) `weekday` (Monday = 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def us_federal_holidays(year: int) -> list[tuple[date, str]]:
    """(date, name) of the holidays most clinics close for, in date order: the days
    themselves, not the observed Friday or Monday when one falls on a weekend."""
    return [
        (date(year, 1, 1), "New Year's Day"),
        (last_weekday(year, 5, calendar.MONDAY), "Memorial Day"),
        (date(year, 7, 4), "Independence Day"),
        (nth_weekday(year, 9, calendar.MONDAY, 1), "Labor Day"),
        (nth_weekday(year, 11, calendar.THURSDAY, 4), "Thanksgiving"),
        (date(year, 12, 25), "Christmas Day"),
    ]
