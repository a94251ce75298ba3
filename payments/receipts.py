"""Email receipts: queued in the outbox (notifications, kind "receipt", email only) when a
payment is taken or a refund made, and again when the desk asks for a copy.

A receipt is a snapshot written in the same transaction as the money change: the amount
and its currency, what it was for (the treatment's name and nothing else medical), the
instant (UTC; the email shows it on the location's wall clock), the method and, for a card,
its last 4 digits. The dispatcher renders it in the patient's language.
"""

from datetime import UTC, datetime

from notifications import planning
from notifications.models import Notification
from payments.models import Payment, Refund, SavedCard

__all__ = ["copy_queued_since", "payment_receipt", "refund_receipt", "send_copy"]

_CARD_METHODS = (Payment.Method.ONLINE, Payment.Method.CARD_ON_FILE)


def _snapshot(payment: Payment) -> dict:
    appointment, plan = payment.appointment, payment.plan
    treatment = appointment.treatment if appointment else plan.treatment if plan else None
    last4 = ""
    if payment.method in _CARD_METHODS:
        card = SavedCard.objects.filter(patient_id=payment.patient_id).first()
        last4 = card.last4 if card else ""
    return {
        "payment": payment.pk,
        "kind": payment.kind,
        "fee": payment.fee,
        "method": payment.method,
        "last4": last4,
        "treatment": treatment.name if treatment else "",
        "sessions": plan.sessions if plan and payment.kind == Payment.Kind.COURSE else None,
    }


def payment_receipt(payment: Payment, *, now: datetime, key: str = "") -> None:
    """Queue the receipt of a payment that has been taken."""
    at = payment.succeeded_at or now
    planning.receipt(
        key=key or f"receipt:payment:{payment.pk}",
        patient=payment.patient,
        location=payment.location,
        context={
            **_snapshot(payment),
            "number": f"P-{payment.pk}",
            "amount": str(payment.amount),
            "currency": payment.currency,
            "at": at.astimezone(UTC).isoformat(),
        },
        now=now,
    )


def refund_receipt(refund: Refund, *, now: datetime, key: str = "") -> None:
    """Queue the receipt of a refund (the reason stays with the desk: it may be medical)."""
    payment = refund.payment
    planning.receipt(
        key=key or f"receipt:refund:{refund.pk}",
        patient=payment.patient,
        location=payment.location,
        context={
            **_snapshot(payment),
            "refund": True,
            "number": f"R-{refund.pk}",
            "amount": str(refund.amount),
            "currency": refund.currency,
            "at": refund.created_at.astimezone(UTC).isoformat(),
        },
        now=now,
    )


def send_copy(payment: Payment, *, now: datetime) -> int:
    """Queue a fresh copy of a taken payment's receipt and of each of its refunds' (the desk's
    "Email a receipt"). Returns how many receipts were queued; 0 for a payment not taken."""
    if payment.succeeded_at is None:
        return 0
    stamp = f"{now.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
    payment_receipt(payment, now=now, key=f"receipt:payment:{payment.pk}:copy:{stamp}")
    refunds = list(payment.refunds.order_by("created_at"))
    for row in refunds:
        row.payment = payment
        refund_receipt(row, now=now, key=f"receipt:refund:{row.pk}:copy:{stamp}")
    return 1 + len(refunds)


def copy_queued_since(payment: Payment, since: datetime) -> bool:
    """Whether a copy of the payment's receipt was queued (due) at or after `since`."""
    return Notification.objects.filter(
        kind=Notification.Kind.RECEIPT,
        key__startswith=f"receipt:payment:{payment.pk}:copy:",
        due_at__gte=since,
    ).exists()
