"""The patient's booking flow hands over here once a visit is booked: if its terms ask for
a deposit and online payments are on, the patient goes to the deposit page; the time is held
for PAYMENT_HOLD_MINUTES (payments.tasks lets unpaid ones go). Terms that keep a card on
file with no deposit send the patient to save one (`keep_card`), held the same way."""

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
    if payment is not None and payment.state == payment.State.PENDING:
        return redirect("pay", pk=payment.pk)
    if services.ask_for_card(appointment=appointments[0], now=timezone.now()):
        return redirect("keep_card", pk=appointments[0].pk)
    return None
