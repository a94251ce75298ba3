"""Which money rules apply to a booking, in amounts and in plain words.

`policy_for` picks the location's rule for one treatment (a treatment's own rule wins over
the location's default); `terms_for` works the amounts out from the price in the location's
currency; `freeze_terms` stores them with the visit so later edits change nothing already
booked.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from booking.models import Appointment, Location, TreatmentPlan
from payments.backends import get_backend
from payments.models import BookingTerms, Charge, PaymentPolicy, RefundRule
from treatments.models import Treatment
from treatments.money import Money, format_money

__all__ = ["Terms", "freeze_terms", "policy_for", "terms_for"]


def policy_for(location: Location, treatment: Treatment) -> PaymentPolicy:
    """The policy in force for `treatment` at `location` (one query). With none set, an
    unsaved policy that asks for nothing."""
    found = list(
        PaymentPolicy.objects.filter(
            Q(treatment=treatment) | Q(treatment__isnull=True), location=location
        )
    )
    found.sort(key=lambda policy: policy.treatment_id is None)
    return found[0] if found else PaymentPolicy(location=location)


def _amount(kind: str, value: Decimal, price: Money) -> Money:
    if kind == Charge.FIXED:
        return Money(value, price.currency)
    if kind == Charge.PERCENT:
        return price.percent(value)
    return Money.zero(price.currency)


@dataclass(frozen=True)
class Terms:
    """A policy worked out for one price."""

    price: Money
    deposit: Money
    late_cancel_fee: Money
    no_show_fee: Money
    card_on_file_required: bool
    refund_rule: str
    notice_hours: int
    prepaid_session_covers_fee: bool

    def sentence(self, language: str = "en", *, online: bool = True) -> str:
        """The terms in plain words, for the patient before they confirm. `online` False
        (no payment backend): the deposit is taken at the clinic."""

        def m(money: Money) -> str:
            return format_money(money, language)

        parts = []
        if self.deposit:
            if online:
                parts.append(
                    _("A deposit of %(amount)s is paid now.") % {"amount": m(self.deposit)}
                )
            else:
                parts.append(
                    _("A deposit of %(amount)s is taken at the clinic.")
                    % {"amount": m(self.deposit)}
                )
            parts.append(
                {
                    RefundRule.BEFORE_NOTICE: _(
                        "It is refunded if you cancel at least %(hours)s hours before "
                        "your visit, and kept if you cancel later."
                    ),
                    RefundRule.ALWAYS: _("It is refunded whenever you cancel."),
                    RefundRule.NEVER: _("It is not refundable."),
                }[RefundRule(self.refund_rule)]
                % {"hours": self.notice_hours}
            )
        else:
            parts.append(_("Nothing is paid now; you pay at the clinic."))
        if self.card_on_file_required:
            parts.append(_("We keep your card on file to hold the booking."))
        if self.late_cancel_fee:
            parts.append(
                _("Cancelling less than %(hours)s hours before costs %(amount)s.")
                % {"hours": self.notice_hours, "amount": m(self.late_cancel_fee)}
            )
        else:
            parts.append(
                _("You can cancel free of charge up to %(hours)s hours before.")
                % {"hours": self.notice_hours}
            )
        if self.no_show_fee:
            parts.append(_("Missing the visit costs %(amount)s.") % {"amount": m(self.no_show_fee)})
        return " ".join(parts)


def terms_for(
    location: Location, treatment: Treatment, policy: PaymentPolicy | None = None
) -> Terms:
    policy = policy or policy_for(location, treatment)
    price = Money(treatment.price, location.currency)
    return Terms(
        price=price,
        deposit=min(_amount(policy.deposit, policy.deposit_value, price), price)
        if price
        else Money.zero(price.currency),
        late_cancel_fee=_amount(policy.late_cancel_fee, policy.late_cancel_fee_value, price),
        no_show_fee=_amount(policy.no_show_fee, policy.no_show_fee_value, price),
        card_on_file_required=policy.card_on_file_required,
        refund_rule=policy.refund_rule,
        notice_hours=location.cancellation_notice_hours,
        prepaid_session_covers_fee=policy.prepaid_session_covers_fee,
    )


def freeze_terms(
    *, appointment: Appointment | None = None, plan: TreatmentPlan | None = None, now: datetime
) -> BookingTerms:
    """Store the terms in force now with a visit (or a whole plan); once stored, kept."""
    target = appointment or plan
    assert target is not None
    policy = policy_for(target.location, target.treatment)
    terms = terms_for(target.location, target.treatment, policy)
    row, _created = BookingTerms.objects.get_or_create(
        appointment=appointment,
        plan=plan if appointment is None else None,
        defaults={
            "policy": policy if policy.pk else None,
            "currency": terms.price.currency,
            "price": terms.price.amount,
            "deposit": terms.deposit.amount,
            "late_cancel_fee": terms.late_cancel_fee.amount,
            "no_show_fee": terms.no_show_fee.amount,
            "card_on_file_required": terms.card_on_file_required,
            "refund_rule": terms.refund_rule,
            "notice_hours": terms.notice_hours,
            "prepaid_session_covers_fee": terms.prepaid_session_covers_fee,
            "sentence": terms.sentence(online=get_backend().online),
            "created_at": now,
        },
    )
    return row
