"""`{{ treatment.price|money:location.currency }}` and `{{ payment.money|money }}`: an amount
as people read it in the active language, with its cents ("$175.50", never "$176").

A built-in of every template (settings.TEMPLATES), like `|phone`.
"""

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import translation

from treatments.money import Money, format_money

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        value = Money(Decimal(value), currency or settings.DEFAULT_CURRENCY)
    return format_money(value, translation.get_language() or settings.LANGUAGE_CODE)
