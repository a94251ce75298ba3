"""The desk's money pages under /staff/: take a payment, refund, charge a fee (each a POST
through payments.services as the signed-in user) and a day's takings."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import front_desk_required
from booking.models import Appointment, Location, TreatmentPlan
from payments import services
from payments.forms import FeeForm, RefundForm, TakePaymentForm
from payments.models import Payment, Refund
from treatments.money import Money


def _form_problem(form) -> str:
    return " ".join(f"{field}: {e}" for field, errors in form.errors.items() for e in errors)


@front_desk_required
@require_POST
def take_payment(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("location"), pk=pk)
    form = TakePaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not taken: %(reason)s") % {"reason": _form_problem(form)})
        return redirect("desk:appointment", pk=pk)
    data = form.cleaned_data
    try:
        payment = services.record_payment(
            appointment=appointment,
            kind=data["kind"],
            method=data["method"],
            money=Money(data["amount"], appointment.location.currency),
            actor=request.user,
            now=timezone.now(),
            note=data["note"],
        )
    except services.PaymentRefused as error:
        messages.error(request, _("Not taken: %(reason)s") % {"reason": error.message})
    else:
        messages.success(
            request,
            _("Took %(amount)s (%(method)s).")
            % {"amount": payment.money, "method": payment.get_method_display()},
        )
    return redirect("desk:appointment", pk=pk)


@front_desk_required
@require_POST
def refund_payment(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    back = (
        redirect("desk:appointment", pk=payment.appointment_id)
        if payment.appointment_id
        else redirect("takings")
    )
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not refunded: %(reason)s") % {"reason": _form_problem(form)})
        return back
    try:
        refund = services.refund(
            payment=payment,
            money=Money(form.cleaned_data["amount"], payment.currency),
            reason=form.cleaned_data["reason"],
            actor=request.user,
            now=timezone.now(),
        )
    except services.PaymentRefused as error:
        messages.error(request, _("Not refunded: %(reason)s") % {"reason": error.message})
    else:
        messages.success(request, _("Refunded %(amount)s.") % {"amount": refund.money})
    return back


@front_desk_required
@require_POST
def email_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("patient", "location"), pk=pk)
    back = (
        redirect("desk:appointment", pk=payment.appointment_id)
        if payment.appointment_id
        else redirect("desk:plan", pk=payment.plan_id)
        if payment.plan_id
        else redirect("takings")
    )
    try:
        services.email_receipt(payment=payment, actor=request.user, now=timezone.now())
    except services.PaymentRefused as error:
        messages.error(request, _("No receipt sent: %(reason)s") % {"reason": error.message})
    else:
        messages.success(
            request, _("A receipt is on its way to %(email)s.") % {"email": payment.patient.email}
        )
    return back


@front_desk_required
@require_POST
def charge_fee(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("location"), pk=pk)
    form = FeeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the fee is paid."))
        return redirect("desk:appointment", pk=pk)
    try:
        fee = services.charge_fee(
            appointment=appointment,
            actor=request.user,
            now=timezone.now(),
            method=form.cleaned_data["method"],
        )
    except services.PaymentRefused as error:
        messages.error(request, _("No fee charged: %(reason)s") % {"reason": error.message})
    else:
        if fee is None:
            messages.success(
                request, _("A prepaid session of the course was used instead of a fee.")
            )
        else:
            messages.success(
                request,
                _("Charged the %(fee)s of %(amount)s.")
                % {"fee": fee.get_fee_display().lower(), "amount": fee.money},
            )
    return redirect("desk:appointment", pk=pk)


def _day(value: str, today: date) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return today


@front_desk_required
@require_GET
def takings(request: HttpRequest) -> HttpResponse:
    """What one location took on one day (its own wall-clock day): payments and refunds,
    with totals by method. Three queries, whatever the number of payments."""
    locations = list(Location.objects.all())
    location = next(
        (loc for loc in locations if loc.slug == request.GET.get("location")),
        locations[0] if locations else None,
    )
    if location is None:
        return render(request, "payments/takings.html", {"locations": []})
    today = timezone.localdate(timezone.now(), location.zone)
    day = _day(request.GET.get("date", ""), today)
    start = datetime.combine(day, time(0), tzinfo=location.zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=location.zone)
    payments = list(
        Payment.objects.filter(location=location, succeeded_at__gte=start, succeeded_at__lt=end)
        .select_related("patient", "appointment__treatment", "taken_by")
        .order_by("succeeded_at")
    )
    refunds = list(
        Refund.objects.filter(payment__location=location, created_at__gte=start, created_at__lt=end)
        .select_related("payment__patient", "by")
        .order_by("created_at")
    )
    by_method: dict[str, Decimal] = {}
    for payment in payments:
        label = payment.get_method_display()
        by_method[label] = by_method.get(label, Decimal(0)) + payment.amount
    taken = sum((p.amount for p in payments), Decimal(0))
    given_back = sum((r.amount for r in refunds), Decimal(0))
    currency = location.currency
    return render(
        request,
        "payments/takings.html",
        {
            "locations": locations,
            "location": location,
            "day": day,
            "payments": payments,
            "refunds": refunds,
            "by_method": {k: Money(v, currency) for k, v in sorted(by_method.items())},
            "taken": Money(taken, currency),
            "refunded": Money(given_back, currency),
            "net": Money(taken - given_back, currency),
        },
    )


@front_desk_required
@require_POST
def sell_course(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan.objects.select_related("location", "treatment"), pk=pk)
    form = FeeForm(request.POST)  # the same choice: card on file, cash or terminal
    if not form.is_valid():
        messages.error(request, _("Choose how the course is paid."))
        return redirect("desk:plan", pk=pk)
    try:
        payment = services.sell_course(
            plan=plan, method=form.cleaned_data["method"], actor=request.user, now=timezone.now()
        )
    except services.PaymentRefused as error:
        messages.error(request, _("Not taken: %(reason)s") % {"reason": error.message})
    else:
        messages.success(request, _("Took %(amount)s for the course.") % {"amount": payment.money})
    return redirect("desk:plan", pk=pk)


@front_desk_required
@require_POST
def end_course(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan.objects.select_related("location", "treatment"), pk=pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give a reason for the refund."))
        return redirect("desk:plan", pk=pk)
    try:
        refund = services.end_course(
            plan=plan,
            reason=reason,
            medical=request.POST.get("medical") == "1",
            actor=request.user,
            now=timezone.now(),
        )
    except services.PaymentRefused as error:
        messages.error(request, _("Not refunded: %(reason)s") % {"reason": error.message})
    else:
        messages.success(
            request,
            _("Refunded %(amount)s.") % {"amount": refund.money}
            if refund
            else _("Nothing left to refund."),
        )
    return redirect("desk:plan", pk=pk)
