"""One appointment at the desk: its page, moving it (also by drag on the calendar, as
JSON), status changes and cancelling, each through booking.services as the signed-in user."""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import front_desk_required
from booking import schedule, services
from booking.models import Appointment, WaitlistEntry
from booking.services import waitlist
from consent import services as consent_services
from desk.forms import CancelForm, MoveForm, StatusForm
from desk.views.calendar import visit_block
from desk.views.common import _calendar_url, _labelled, _next_or, _now, _wants_json, _when


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
    local = appointment.location.local(appointment.start)
    move_form = MoveForm(
        appointment=appointment,
        initial={"date": local.date(), "time": local.time(), "provider": appointment.provider_id},
        auto_id=MOVE_IDS,
    )
    return _detail(request, appointment, move_form)


MOVE_IDS, CANCEL_IDS = "move_%s", "cancel_%s"  # the two forms share a page: no shared ids


def _detail(request, appointment, move_form, *, suggestions=(), status=200):
    location = appointment.location
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
            "suggestions": suggestions,
            "cancel_form": CancelForm(auto_id=CANCEL_IDS),
            "audit": _labelled(appointment.audit_entries.select_related("actor")),
            "messages_sent": appointment.notifications.select_related("patient").order_by("due_at"),
            "waitlist_matches": freed,
            "consent": consent,
            "consent_label": consent.label(location.zone),
            "offered": WaitlistEntry.objects.filter(
                offered_start=appointment.start, location=location
            ).select_related("patient"),
        },
        status=status,
    )


@front_desk_required
@require_POST
def appointment_move(request, pk: int):
    appointment = _appointment_or_404(pk)
    form = MoveForm(request.POST, appointment=appointment, auto_id=MOVE_IDS)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _move_refused(request, appointment, form, message, 400)
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
        return _move_refused(request, appointment, form, error.message, error.status_code)
    moved = _appointment_or_404(moved.pk)
    message = _("Moved %(patient)s to %(day)s at %(time)s with %(provider)s.") % {
        "patient": moved.patient,
        "provider": moved.provider,
        **_when(moved.location, moved.start),
    }
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": message})
    messages.success(request, message)
    return redirect(_calendar_url(moved))


def _move_refused(request, appointment, form, message: str, status: int):
    """The refusal, with what was typed kept and the nearest free times offered (for the
    chosen aesthetician first, then anyone), each one a one-click move."""
    start = form.cleaned_data.get("start") if hasattr(form, "cleaned_data") else None
    suggestions = []
    if start is not None:
        chosen = form.cleaned_data.get("provider")
        suggestions = services.nearest_free_times(
            treatment=appointment.treatment,
            location=appointment.location,
            start=start,
            now=_now(),
            provider_id=(chosen or appointment.provider).pk,
            exclude_appointment_id=appointment.pk,
        )
    if _wants_json(request):
        zone = appointment.location.zone
        return JsonResponse(
            {
                "ok": False,
                "message": message,
                "suggestions": [
                    {
                        "date": f"{s.start.astimezone(zone):%Y-%m-%d}",
                        "time": f"{s.start.astimezone(zone):%H:%M}",
                        "provider": s.provider_id,
                        "label": f"{s.start.astimezone(zone):%a %-d %b, %H:%M} · {s.provider_name}",
                    }
                    for s in suggestions
                ],
            },
            status=status,
        )
    messages.error(request, _("Not moved: %(reason)s") % {"reason": message})
    return _detail(request, appointment, form, suggestions=suggestions, status=status)


@front_desk_required
@require_POST
def appointment_status(request, pk: int):
    appointment = _appointment_or_404(pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown status."))
    status = form.cleaned_data["status"]
    error = ""
    try:
        services.change_status(
            appointment=appointment,
            status=status,
            now=_now(),
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except services.BookingError as refused:
        error = refused.message
    if request.htmx and "view" in request.POST:
        # From a calendar block: answer with the block redrawn (refusal inside it).
        appointment = _appointment_or_404(pk)
        block = visit_block(
            request,
            appointment,
            view=request.POST.get("view", ""),
            by=request.POST.get("by", ""),
            error=error,
        )
        return HttpResponse(block, status=409 if error and not block else 200)
    if error:
        messages.error(request, error)
    else:
        label = Appointment.Status(status).label.lower()
        messages.success(
            request,
            _("%(patient)s marked %(status)s.") % {"patient": appointment.patient, "status": label},
        )
    return redirect(_next_or(request, reverse("desk:appointment", args=[pk])))


@front_desk_required
@require_POST
def appointment_cancel(request, pk: int):
    appointment = _appointment_or_404(pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for cancelling."))
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
    if cancelled.late_cancellation:
        done = _("Cancelled %(patient)s's visit (late cancellation).")
    else:
        done = _("Cancelled %(patient)s's visit.")
    messages.success(request, done % {"patient": appointment.patient})
    return redirect("desk:appointment", pk=pk)
