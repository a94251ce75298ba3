"""`{{ number|phone }}`: a stored E.164 number as people read it, "+1 404-555-0100".

A built-in of every template (settings.TEMPLATES), so no page needs to load it. Links keep the
E.164 form (`tel:+14045550100`); this is for the text people read.
"""

from django import template

register = template.Library()


@register.filter
def phone(value) -> str:
    if not value:
        return ""
    international = getattr(value, "as_international", None)
    return international or str(value)
