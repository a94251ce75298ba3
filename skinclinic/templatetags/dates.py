"""`{{ start|long_date }}`, `|full_date`, `|weekday_date`, `|month_day`, `|short_date` and
`|clock`: dates and times in the active language's own order (booking.formats). Built-ins of
every template."""

from django import template

from booking import formats

register = template.Library()

register.filter("long_date", formats.long_date)
register.filter("full_date", formats.full_date)
register.filter("weekday_date", formats.weekday_date)
register.filter("month_day", formats.month_day)
register.filter("short_date", formats.short_date)
register.filter("clock", formats.clock)
