"""The desk's money forms: amounts typed as decimals (never floats), a reason for refunds."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from payments.models import Payment

DESK_METHODS = [
    (method, method.label)
    for method in (Payment.Method.CARD_ON_FILE, Payment.Method.CASH, Payment.Method.TERMINAL)
]


class TakePaymentForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind, kind.label) for kind in (Payment.Kind.SESSION, Payment.Kind.DEPOSIT)],
        initial=Payment.Kind.SESSION,
        label=gettext_lazy("Kind"),
    )
    method = forms.ChoiceField(
        choices=DESK_METHODS, initial=Payment.Method.CASH, label=gettext_lazy("Method")
    )
    amount = forms.DecimalField(
        min_value=Decimal("0.01"), max_digits=10, decimal_places=2, label=gettext_lazy("Amount")
    )
    note = forms.CharField(max_length=200, required=False, label=gettext_lazy("Note"))


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        min_value=Decimal("0.01"), max_digits=10, decimal_places=2, label=gettext_lazy("Amount")
    )
    reason = forms.CharField(max_length=200, label=gettext_lazy("Reason"))


class FeeForm(forms.Form):
    method = forms.ChoiceField(choices=DESK_METHODS, label=gettext_lazy("Method"))
