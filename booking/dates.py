"""The range of years the clinic's pages accept: far enough apart for any real visit or
birthday, and far enough from datetime's own limits (years 1 and 9999) that a day or two
added or taken away never overflows."""

from datetime import date, datetime

from django import forms

EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
OUT_OF_RANGE = f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}."


def in_range(value: date | datetime) -> bool:
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def check_year(value: date | datetime | None) -> None:
    """A form validator: refuses a date (or date and time) outside the accepted years."""
    if value is not None and not in_range(value):
        raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
