"""Input fields of the JSON API: days, instants with their UTC offset, slugs and ids.

Each refuses what the database or Python's datetime could not hold (a year outside
EARLIEST_YEAR..LATEST_YEAR, an id beyond a bigint, text that cannot be a slug) with a 400
before any query, and says in its message what to send instead.
"""

from datetime import date, datetime

from django.core.validators import slug_re
from django.db import connections
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
        queryset = self.get_queryset()
        assert queryset is not None  # every SlugLookupField is given one
        if not _plain_rows(queryset):
            return super().to_internal_value(data)
        alias = queryset.db  # the router's choice, as queryset.get() would make
        key = (type(self.parent), self.field_name, alias)
        lookup = _compiled_lookups.get(key)
        if lookup is None:
            lookup = _compiled_lookups[key] = _CompiledLookup(queryset, self.slug_field, alias)
        found = lookup.run(data)
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return found


# Every API request names its treatment and location: building and compiling their ORM
# lookups cost more than the two queries themselves (0.8 ms of CPU against 0.2), so each
# field's lookup is compiled once per process and database (_CompiledLookup) and run with the
# slug it is given. Only for querysets of whole rows (no annotations, related rows or deferred
# fields), which from_db builds as the ORM would; any other goes through the ORM.
_NOT_A_SLUG = "\x00"  # a placeholder no slug can equal (slugs are checked first)


def _plain_rows(queryset) -> bool:
    query = queryset.query
    return not (
        query.select_related
        or query.annotations
        or query.extra
        or query.deferred_loading != (frozenset(), True)
        or queryset._prefetch_related_lookups
        or query.combinator
        or query.values_select
    )


class _CompiledLookup:
    """``queryset.get(slug_field=slug)`` as SQL compiled once, run with any slug: the row
    through the fields' converters and Model.from_db, as the ORM builds it, or None."""

    def __init__(self, queryset, slug_field: str, alias: str) -> None:
        compiler = queryset.filter(**{slug_field: _NOT_A_SLUG}).query.get_compiler(alias)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slug_at = self.params.index(_NOT_A_SLUG)
        columns = [column for column, _, _ in compiler.select]
        self.converters = compiler.get_converters(columns)
        self.names = [column.target.attname for column in columns]
        self.model = queryset.model
        self.alias = alias

    def run(self, slug: str):
        params = list(self.params)
        params[self.slug_at] = slug
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchmany(2)
        if len(rows) != 1:
            return None
        row = list(rows[0])
        for index, (converters, expression) in self.converters.items():
            for converter in converters:
                row[index] = converter(row[index], expression, connection)
        return self.model.from_db(self.alias, self.names, row)


_compiled_lookups: dict[tuple[type, str | None, str], _CompiledLookup] = {}


class IdField(serializers.IntegerField):
    """A database id: a positive whole number."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)
