"""The US federal holidays a location can close for at once (booking.holidays)."""

from datetime import date

import pytest

from booking.holidays import us_federal_holidays


def test_the_2027_holidays():
    assert us_federal_holidays(2027) == [
        (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 5, 31), "Memorial Day"),
        (date(2027, 7, 4), "Independence Day"),
        (date(2027, 9, 6), "Labor Day"),
        (date(2027, 11, 25), "Thanksgiving"),
        (date(2027, 12, 25), "Christmas Day"),
    ]


@pytest.mark.parametrize(
    ("year", "memorial", "labor", "thanksgiving"),
    [
        (2026, date(2026, 5, 25), date(2026, 9, 7), date(2026, 11, 26)),
        (2028, date(2028, 5, 29), date(2028, 9, 4), date(2028, 11, 23)),
        (2030, date(2030, 5, 27), date(2030, 9, 2), date(2030, 11, 28)),
    ],
)
def test_the_moving_holidays_fall_on_their_weekdays(year, memorial, labor, thanksgiving):
    days = dict((name, day) for day, name in us_federal_holidays(year))

    assert (days["Memorial Day"], days["Labor Day"], days["Thanksgiving"]) == (
        memorial,
        labor,
        thanksgiving,
    )
    assert memorial.weekday() == labor.weekday() == 0
    assert thanksgiving.weekday() == 3
