"""The patient's booking flow hands over here once a visit is booked: what its terms ask
online (`services.online_due`: a deposit, or the whole course when the patient chose to pay
it up front) sends the patient to the pay page; terms that keep a card on file with no
deposit send them to save one (`keep_card`). The time is held for PAYMENT_HOLD_MINUTES
(payments.tasks lets unpaid ones go)."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from booking.models import Appointment
from payments import services


def after_booking(
    request: HttpRequest, appointments: Sequence[Appointment], *, pay_course: bool = False
) -> HttpResponse | None:
    """A redirect to the pay page (or the card page) of the first visit, or None (nothing
    to pay online: the booking flow shows its own "You're booked" page)."""
    if not appointments:
        return None
    first = appointments[0]
    due = services.online_due(appointment=first, now=timezone.now(), pay_course=pay_course)
    if due is None:
        return None
    if due.payment is not None:
        return redirect("pay", pk=due.payment.pk)
    return redirect("keep_card", pk=first.pk)
