"""One appointment at the desk: its page, moving it (also by drag on the calendar, as
JSON), status changes and cancelling, each through booking.services as the signed-in user."""

from django.contrib import messages
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import front_desk_required
from booking import schedule, services
from booking.models import Appointment, WaitlistEntry
from booking.services import waitlist
from consent import services as consent_services
from desk.forms import CancelForm, MoveForm, StatusForm
from desk.views.common import _calendar_url, _labelled, _next_or, _now, _wants_json


def _appointment_or_404(pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related(
            "patient", "treatment", "location", "provider", "room", "plan"
        ),
        pk=pk,
    )


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
@require_GET
def appointment_detail(request, pk: int):
    appointment = _appointment_or_404(pk)
    location = appointment.location
    local = location.local(appointment.start)
    move_form = MoveForm(
        appointment=appointment,
        initial={"date": local.date(), "time": local.time(), "provider": appointment.provider_id},
    )
    consent = consent_services.status_for(appointment)
    freed = []
    if appointment.status == Appointment.Status.CANCELLED and appointment.start > _now():
        freed = waitlist.matching(
            location_id=location.pk,
            treatment_id=appointment.treatment_id,
            provider_id=appointment.provider_id,
            start=appointment.start,
            tz=location.zone,
            exclude_patient_id=appointment.patient_id,
        )
    return render(
        request,
        "staff/appointment.html",
        {
            "appointment": appointment,
            "location": location,
            "window": schedule.session_window(appointment),
            "move_form": move_form,
            "cancel_form": CancelForm(),
            "audit": _labelled(appointment.audit_entries.select_related("actor")),
            "waitlist_matches": freed,
            "consent": consent,
            "consent_label": consent.label(location.zone),
            "offered": WaitlistEntry.objects.filter(
                offered_start=appointment.start, location=location
            ).select_related("patient"),
        },
    )


@front_desk_required
@require_POST
def appointment_move(request, pk: int):
    appointment = _appointment_or_404(pk)
    form = MoveForm(request.POST, appointment=appointment)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _move_refused(request, appointment, message, 400)
    cleaned = form.cleaned_data
    try:
        moved = services.reschedule_appointment(
            appointment=appointment,
            start=cleaned["start"],
            now=_now(),
            actor=request.user,
            staff=True,
            reason=cleaned["reason"],
            provider=cleaned["provider"],
        )
    except services.BookingError as error:
        return _move_refused(request, appointment, error.message, error.status_code)
    moved = _appointment_or_404(moved.pk)
    message = (
        f"Moved {moved.patient} to {moved.location.local(moved.start):%a %b %-d at %H:%M} "
        f"with {moved.provider}."
    )
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": message})
    messages.success(request, message)
    return redirect(_calendar_url(moved))


def _move_refused(request, appointment, message: str, status: int):
    if _wants_json(request):
        return JsonResponse({"ok": False, "message": message}, status=status)
    messages.error(request, f"Not moved: {message}")
    return redirect("desk:appointment", pk=appointment.pk)


@front_desk_required
@require_POST
def appointment_status(request, pk: int):
    appointment = _appointment_or_404(pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown status.")
    status = form.cleaned_data["status"]
    try:
        services.change_status(
            appointment=appointment,
            status=status,
            now=_now(),
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except services.BookingError as error:
        messages.error(request, error.message)
    else:
        label = Appointment.Status(status).label.lower()
        messages.success(request, f"{appointment.patient} marked {label}.")
    return redirect(_next_or(request, reverse("desk:appointment", args=[pk])))


@front_desk_required
@require_POST
def appointment_cancel(request, pk: int):
    appointment = _appointment_or_404(pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for cancelling.")
        return redirect("desk:appointment", pk=pk)
    try:
        cancelled = services.cancel_appointment(
            appointment=appointment,
            now=_now(),
            actor=request.user,
            reason=form.cleaned_data["reason"],
            staff=True,
        )
    except services.BookingError as error:
        messages.error(request, error.message)
        return redirect("desk:appointment", pk=pk)
    late = " (late cancellation)" if cancelled.late_cancellation else ""
    messages.success(request, f"Cancelled {appointment.patient}'s visit{late}.")
    return redirect("desk:appointment", pk=pk)
