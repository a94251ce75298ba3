"""The aesthetician's pages: the day sheet and the treatment chart of a visit.

An aesthetician sees only their own day and their own visits (another's visit is a 404);
the front desk may read any aesthetician's day and charts but does not chart.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.roles import NotYours, aesthetician_required, is_aesthetician, is_front_desk
from booking.dates import OUT_OF_RANGE, in_range
from booking.models import Appointment, Provider
from booking.services import BookingError
from charts import day, services
from charts.forms import ChartForm, CorrectionForm, DayForm, zone_formset
from charts.models import TreatmentChart


def _own_provider(user) -> Provider | None:
    return user.provider if is_aesthetician(user) else None


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
def my_day(request):
    own = _own_provider(request.user)
    desk = is_front_desk(request.user)
    form = DayForm(request.GET or None, initial={"provider": own})
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    if cleaned.get("date") and not in_range(cleaned["date"]):
        form.add_error("date", OUT_OF_RANGE)  # shown as "not a date we can show"; then today
    provider = cleaned.get("provider") or own
    if provider is None and desk:
        provider = Provider.objects.active().first()
    if provider is None:
        raise Http404("No aesthetician to show.")
    if provider != own and not desk:
        raise PermissionDenied("You can only open your own day.")
    now = timezone.now()
    tz = day.home_zone(provider, now)
    today = now.astimezone(tz).date()
    shown = cleaned.get("date") or today
    if not desk:
        del form.fields["provider"]
    visits = day.day_sheet(provider, shown, tz)
    return render(
        request,
        "staff/my_day.html",
        {
            "form": form,
            "provider": provider,
            "day": shown,
            "today": today,
            "previous_day": shown - timedelta(days=1),
            "next_day": shown + timedelta(days=1),
            "visits": visits,
            "provider_query": f"&provider={provider.pk}" if provider != own else "",
            "can_chart": provider == own,
        },
    )


def _visit_for(request, pk: int) -> Appointment:
    appointment = get_object_or_404(
        Appointment.objects.select_related(
            "patient", "treatment__protocol", "location", "room", "provider", "plan"
        ),
        pk=pk,
    )
    if is_front_desk(request.user):
        return appointment
    if appointment.provider_id != request.user.provider.pk:
        raise NotYours("This visit is not on your schedule.")
    return appointment


def _require_own(request, appointment: Appointment) -> None:
    if appointment.provider_id != getattr(_own_provider(request.user), "pk", None):
        raise PermissionDenied("Only the visit's aesthetician charts it.")


def _day_url(appointment: Appointment) -> str:
    return (
        f"{reverse('my_day')}?date={appointment.local_start.date().isoformat()}"
        f"#visit-{appointment.pk}"
    )


def _history(appointment: Appointment) -> list[TreatmentChart]:
    return list(
        TreatmentChart.objects.for_patients_and_treatments(
            [appointment.patient_id], [appointment.treatment_id]
        )
        .filter(appointment__start__lte=appointment.start)
        .select_related("appointment__location", "recorded_by", "corrects")
        .prefetch_related("zones")
        .order_by("-appointment__start", "-recorded_at")
    )


def _saved_message(saved: services.ChartSaved) -> str:
    text = "Chart saved and the visit marked completed."
    session = saved.next_session
    if session is None:
        return text
    window = f"{session.earliest:%b %-d} - {session.latest:%b %-d, %Y}"
    if saved.next_appointment is None:
        return (
            f"{text} Session {session.number} is due {window}; the patient will be reminded "
            "to book when the window opens."
        )
    booked = f"{saved.next_appointment.local_start:%b %-d}"
    if saved.next_is_outside_window:
        return (
            f"{text} Session {session.number} is booked on {booked}, outside its new window "
            f"{window}: ask the front desk to move it."
        )
    return f"{text} Session {session.number} is booked on {booked}."


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
@require_http_methods(["GET", "POST"])
def chart(request, pk: int):
    appointment = _visit_for(request, pk)
    history = _history(appointment)
    current = next(
        (c for c in history if c.appointment_id == appointment.pk and not c.is_superseded), None
    )
    now = timezone.now()
    closed = services.day_is_closed(appointment, now=now)
    editable = current is None or not closed
    form = formset = None
    if request.method == "POST":
        _require_own(request, appointment)
        if not editable:
            messages.error(request, "The day of this visit is closed: record a correction.")
            return redirect("visit_chart_correct", pk=appointment.pk)
        form = ChartForm(request.POST, instance=current, appointment=appointment)
        formset = zone_formset(appointment, request.POST)
        if form.is_valid() and formset.is_valid():
            try:
                saved = services.save_chart(
                    appointment=appointment,
                    details=form.details(),
                    zones=formset.entries(),
                    now=now,
                    actor=request.user,
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _saved_message(saved))
                return redirect(_day_url(appointment))
    elif editable and _own_provider(request.user) == appointment.provider:
        previous = next((c for c in history if c.appointment_id != appointment.pk), None)
        form = ChartForm(
            instance=current,
            appointment=appointment,
            initial=_carried_over(appointment, previous, current),
        )
        formset = zone_formset(appointment, chart=current or previous)
    return render(
        request,
        "staff/chart.html",
        {
            "appointment": appointment,
            "form": form,
            "formset": formset,
            "current": current,
            "history": [c for c in history if c.appointment_id != appointment.pk][:5],
            "versions": [c for c in history if c.appointment_id == appointment.pk],
            "closed": closed,
            "session_label": day.session_label(appointment),
            "day_url": _day_url(appointment),
        },
    )


def _carried_over(
    appointment: Appointment, previous: TreatmentChart | None, current: TreatmentChart | None
) -> dict:
    """A new chart starts from the last session's products and the treatment's aftercare."""
    if current is not None:
        return {}
    initial = {
        "numbing_applied_at": appointment.local_start.time(),
        "aftercare_given": appointment.treatment.aftercare,
    }
    if previous is not None:
        initial |= {"numbing_agent": previous.numbing_agent, "device": previous.device}
    return initial


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
@require_http_methods(["GET", "POST"])
def chart_correct(request, pk: int):
    appointment = _visit_for(request, pk)
    _require_own(request, appointment)
    current = appointment.charts.current().prefetch_related("zones").first()
    if current is None:
        messages.info(request, "This visit has no chart yet.")
        return redirect("visit_chart", pk=appointment.pk)
    if request.method == "POST":
        form = CorrectionForm(request.POST, appointment=appointment)
        formset = zone_formset(appointment, request.POST)
        if form.is_valid() and formset.is_valid():
            try:
                services.correct_chart(
                    chart=current,
                    details=form.details(),
                    zones=formset.entries(),
                    reason=form.cleaned_data["correction_reason"],
                    now=timezone.now(),
                    actor=request.user,
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Correction recorded; the original entry is kept.")
                return redirect("visit_chart", pk=appointment.pk)
    else:
        form = CorrectionForm(
            instance=current,
            appointment=appointment,
            initial={"correction_reason": ""},
        )
        formset = zone_formset(appointment, chart=current)
    return render(
        request,
        "staff/chart_correct.html",
        {
            "appointment": appointment,
            "form": form,
            "formset": formset,
            "current": current,
            "session_label": day.session_label(appointment),
            "day_url": _day_url(appointment),
        },
    )
