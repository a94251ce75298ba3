"""Money: Decimal amounts with a currency, rounded to the cent, shown with their cents."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from treatments.money import Money, format_money


def test_it_keeps_cents_and_rounds_half_up():
    assert Money(Decimal("175.5"), "USD").amount == Decimal("175.50")
    assert Money(Decimal("0.125"), "USD").amount == Decimal("0.13")
    assert Money(Decimal("1000.4"), "JPY").amount == Decimal("1000")


def test_it_refuses_floats_and_unknown_currencies():
    with pytest.raises(TypeError):
        Money(175.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a currency"):
        Money(Decimal(1), "XYZ")
    with pytest.raises(ValueError, match="Cannot mix"):
        Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")


def test_percent_of_a_price_rounds_to_the_cent():
    assert Money(Decimal("175.50"), "USD").percent(Decimal(20)) == Money(Decimal("35.10"), "USD")
    assert Money(Decimal("199.99"), "USD").percent(Decimal("33.3")) == Money(
        Decimal("66.60"), "USD"
    )


@given(st.integers(min_value=0, max_value=10**9))
def test_minor_units_round_trip(cents):
    assert Money.from_minor(cents, "USD").minor == cents


def test_it_shows_cents_in_english_and_the_spanish_form():
    assert format_money(Money(Decimal("175.50"), "USD")) == "$175.50"
    assert format_money(Money(Decimal("1250"), "USD")) == "$1,250.00"
    assert format_money(Money(Decimal("-5"), "EUR")) == "-€5.00"
    assert (
        format_money(Money(Decimal("1250.5"), "EUR"), "es") == "1\u00a0250,50\u00a0€"
    )  # Django's es grouping


def test_the_money_filter_is_on_every_template():
    template = Template("{{ price|money }} {{ price|money:'EUR' }} {{ nothing|money }}.")
    with translation.override("en"):
        text = template.render(Context({"price": Decimal("175.50"), "nothing": None}))
    assert text == "$175.50 €175.50 ."


@pytest.mark.django_db
def test_the_catalogue_shows_175_50_not_176(client):
    from tests import factories

    factories.TreatmentFactory(name="Peel", price=Decimal("175.50"))

    page = client.get("/").content.decode()

    assert "$175.50" in page
    assert "$176" not in page
