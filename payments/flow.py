"""The patient's booking flow hands over here once a visit is booked: if its terms ask for
a deposit and online payments are on, the patient goes to the deposit page; the time is held
for PAYMENT_HOLD_MINUTES (payments.tasks lets unpaid ones go)."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from booking.models import Appointment
from payments import services


def after_booking(request: HttpRequest, appointments: Sequence[Appointment]) -> HttpResponse | None:
    """A redirect to the deposit page of the first visit, or None (nothing to pay online:
    the booking flow shows its own "You're booked" page)."""
    if not appointments:
        return None
    try:
        payment = services.start_deposit(appointment=appointments[0], now=timezone.now())
    except services.PaymentRefused:
        return None  # the processor is unreachable: the desk takes the deposit instead
    if payment is None or payment.state != payment.State.PENDING:
        return None
    return redirect("pay", pk=payment.pk)
