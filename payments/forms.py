"""The desk's money forms: amounts typed as decimals (never floats), a reason for refunds."""

from decimal import Decimal

from django import forms

from payments.models import Payment

DESK_METHODS = [
    (Payment.Method.CARD_ON_FILE, "Card on file"),
    (Payment.Method.CASH, "Cash"),
    (Payment.Method.TERMINAL, "Outside card terminal"),
]


class TakePaymentForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(Payment.Kind.SESSION, "Session"), (Payment.Kind.DEPOSIT, "Deposit")],
        initial=Payment.Kind.SESSION,
    )
    method = forms.ChoiceField(choices=DESK_METHODS, initial=Payment.Method.CASH)
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=10, decimal_places=2)
    note = forms.CharField(max_length=200, required=False)


class RefundForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=10, decimal_places=2)
    reason = forms.CharField(max_length=200)


class FeeForm(forms.Form):
    method = forms.ChoiceField(choices=DESK_METHODS)
