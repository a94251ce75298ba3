"""Dates and times in the active language's own order (booking.formats): `{{ start|long_date }}`,
`|full_date`, `|weekday_date`, `|month_day`, `|abbr_month_day`, `|abbr_date`,
`|abbr_weekday_date`, `|compact_date`, `|short_date` and `|clock`.
Built-ins of every template; like `date`, they show an aware time in the current time zone
(`{% timezone %}`)."""

from django import template

from booking import formats

register = template.Library()

register.filter("long_date", formats.long_date, expects_localtime=True)
register.filter("full_date", formats.full_date, expects_localtime=True)
register.filter("weekday_date", formats.weekday_date, expects_localtime=True)
register.filter("month_day", formats.month_day, expects_localtime=True)
register.filter("abbr_month_day", formats.abbr_month_day, expects_localtime=True)
register.filter("abbr_date", formats.abbr_date, expects_localtime=True)
register.filter("abbr_weekday_date", formats.abbr_weekday_date, expects_localtime=True)
register.filter("compact_date", formats.compact_date, expects_localtime=True)
register.filter("short_date", formats.short_date, expects_localtime=True)
register.filter("clock", formats.clock, expects_localtime=True)
