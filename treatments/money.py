"""Money: a Decimal amount with its ISO 4217 currency, and how people read it.

Pure (standard library and Django's number formatting only). Amounts are never floats: a
float given anywhere raises TypeError. Rounding is half-up to the currency's minor unit
(cents for USD and EUR, none for JPY), which is how card processors round.

It lives in treatments, the lowest layer, because prices are set here and every app above
(booking's Location.currency, payments' ledger, the reports) speaks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["CURRENCIES", "Money", "format_money", "minor_digits"]

# Currencies a clinic may charge in: code -> (symbol, minor-unit digits).
CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2),
    "CAD": ("CA$", 2),
    "MXN": ("MX$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
    "AUD": ("A$", 2),
    "CHF": ("CHF", 2),
    "JPY": ("¥", 0),
}


def minor_digits(currency: str) -> int:
    return CURRENCIES[currency][1]


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency, kept to the currency's minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float) or not isinstance(self.amount, Decimal | int | str):
            raise TypeError(f"Money needs a Decimal amount, not {type(self.amount).__name__}.")
        if self.currency not in CURRENCIES:
            raise ValueError(f"{self.currency!r} is not a currency we charge in.")
        try:
            amount = Decimal(self.amount)
        except InvalidOperation as error:
            raise ValueError(f"{self.amount!r} is not an amount of money.") from error
        if not amount.is_finite():
            raise ValueError(f"{self.amount!r} is not an amount of money.")
        exponent = Decimal(1).scaleb(-minor_digits(self.currency))
        object.__setattr__(self, "amount", amount.quantize(exponent, rounding=ROUND_HALF_UP))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """From the integer the card processor speaks (cents for USD)."""
        return cls(Decimal(units).scaleb(-minor_digits(currency)), currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents), as Stripe wants it."""
        return int(self.amount.scaleb(minor_digits(self.currency)))

    def percent(self, rate: Decimal) -> Money:
        """`rate` per cent of this amount, rounded half-up to the minor unit."""
        return Money(self.amount * Decimal(rate) / 100, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("Money adds only to Money.")
        if other.currency != self.currency:
            raise ValueError(f"Cannot mix {self.currency} and {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return format_money(self)


def format_money(money: Money, language: str = "en") -> str:
    """`$175.50` in English, `175,50 US$`-style (amount then symbol) in Spanish.

    Uses Django's locale number formatting for the digits (grouping, decimal mark); every
    amount shows its minor units, so $175.50 is never shown as $176.
    """
    from django.utils import formats, translation

    symbol, digits = CURRENCIES[money.currency]
    with translation.override(language):
        number = formats.number_format(
            abs(money.amount), decimal_pos=digits, use_l10n=True, force_grouping=True
        )
    sign = "-" if money.amount < 0 else ""
    if language.split("-")[0] == "en":
        return f"{sign}{symbol}{number}"
    return f"{sign}{number}\u00a0{symbol}"
