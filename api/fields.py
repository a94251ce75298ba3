"""Input fields of the JSON API: days, instants with their UTC offset, slugs and ids.

Each refuses what the database or Python's datetime could not hold (a year outside
EARLIEST_YEAR..LATEST_YEAR, an id beyond a bigint, text that cannot be a slug) with a 400
before any query, and says in its message what to send instead.
"""

from datetime import date, datetime

from django.core.validators import slug_re
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from booking import dates
from booking.dates import EARLIEST_YEAR, LATEST_YEAR

MAX_ID = 2**63 - 1  # ids beyond a bigint are refused before they reach the database


def _check_year(field: serializers.Field, value: date | datetime) -> None:
    if not dates.in_range(value):
        field.fail("out_of_range")


class DayField(serializers.DateField):
    """A calendar day, YYYY-MM-DD."""

    default_error_messages = {
        "invalid": "Give a date as YYYY-MM-DD, e.g. 2027-03-02.",
        "out_of_range": f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def __init__(self, **kwargs):
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        _check_year(self, day)
        return day


class InstantField(serializers.DateTimeField):
    """An ISO 8601 date and time with its UTC offset; a time without one is refused, since
    the clinic cannot guess which zone it was meant in. Output keeps the offset it has."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time with its UTC offset, "
        "e.g. 2027-03-02T10:00:00-05:00.",
        "naive": "Give the time with its UTC offset, e.g. 2027-03-02T10:00:00-05:00.",
        "out_of_range": f"Give a time between {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            instant = parse_datetime(value.strip())
        except ValueError:  # well formed but impossible, e.g. Feb 30 or a +25:00 offset
            instant = None
        if instant is None:
            self.fail("invalid")
        if instant.tzinfo is None:
            self.fail("naive")
        _check_year(self, instant)
        return instant

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
        ]
    }
)
class DayOrInstantField(InstantField):
    """A day to find the first free time in (YYYY-MM-DD), or an exact time with its offset."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value.strip()) == len("YYYY-MM-DD"):
            try:
                day = parse_date(value.strip())
            except ValueError:
                day = None
            if day is None:
                self.fail("invalid")
            _check_year(self, day)
            return day
        return super().to_internal_value(value)


class SlugLookupField(serializers.SlugRelatedField):
    """A row named by its slug. Text that cannot be a slug is refused without a query."""

    def __init__(self, noun: str, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault(
            "error_messages", {"does_not_exist": f"There is no {noun} called “{{value}}”."}
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 50 or not slug_re.match(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:50])
        return super().to_internal_value(data)


class IdField(serializers.IntegerField):
    """A database id: a positive whole number."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)
