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
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.roles import NotYours, aesthetician_required, is_aesthetician, is_front_desk
from booking import formats
from booking.dates import OUT_OF_RANGE, in_range
from booking.models import Appointment, Provider
from booking.services import BookingError
from charts import day, services
from charts.forms import (
    BaseZoneDepthFormSet,
    ChartForm,
    CorrectionForm,
    DayForm,
    typed_zones,
    zone_formset,
)
from charts.models import TreatmentChart
from consent import services as consent_services


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
    for visit in visits:
        visit.chart_refusal = services.chart_refusal(visit.appointment, now=now)
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
    text = _("Chart saved and the visit marked completed.")
    session = saved.next_session
    if session is None:
        return text
    window = _("%(earliest)s - %(latest)s") % {
        "earliest": formats.abbr_month_day(session.earliest),
        "latest": formats.abbr_date(session.latest),
    }
    values = {"number": session.number, "window": window}
    if saved.next_appointment is None:
        then = _(
            "Session %(number)s is due %(window)s; the patient will be reminded to book when "
            "the window opens."
        )
        return f"{text} {then % values}"
    values["booked"] = formats.abbr_month_day(saved.next_appointment.local_start)
    if saved.next_is_outside_window:
        then = _(
            "Session %(number)s is booked on %(booked)s, outside its new window %(window)s: "
            "ask the front desk to move it."
        )
        return f"{text} {then % values}"
    return f"{text} {_('Session %(number)s is booked on %(booked)s.') % values}"


# The submit button that re-shows the form with last session's values filled in.
SAME_AS_LAST = "same_as_last"


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
@require_http_methods(["GET", "POST"])
def chart(request, pk: int):
    appointment = _visit_for(request, pk)
    history = _history(appointment)
    current = next(
        (c for c in history if c.appointment_id == appointment.pk and not c.is_superseded), None
    )
    last = next(
        (c for c in history if c.appointment_id != appointment.pk and not c.is_superseded), None
    )
    now = timezone.now()
    closed = services.day_is_closed(appointment, now=now)
    editable = current is None or not closed
    refusal = None if current else services.chart_refusal(appointment, now=now)
    form = formset = None
    filled = False
    status = 200
    if request.method == "POST":
        _require_own(request, appointment)
        if not editable:
            messages.error(request, _("The day of this visit is closed: record a correction."))
            return redirect("visit_chart_correct", pk=appointment.pk)
        if refusal:
            status = 409
        elif SAME_AS_LAST in request.POST and last is not None:
            form, formset = _same_as_last(appointment, last, current, request.POST)
            filled = True
        else:
            form = ChartForm(request.POST, instance=current, appointment=appointment, last=last)
            formset = zone_formset(appointment, request.POST, last=last)
            if form.is_valid() and formset.is_valid():
                try:
                    saved = services.save_chart(
                        appointment=appointment,
                        details=form.details(),
                        zones=formset.entries(),
                        now=now,
                        actor=request.user,
                        consent_reason=form.cleaned_data.get("consent_reason", ""),
                    )
                except BookingError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(request, _saved_message(saved))
                    return redirect(_day_url(appointment))
    elif editable and not refusal and _own_provider(request.user) == appointment.provider:
        form = ChartForm(
            instance=current,
            appointment=appointment,
            initial=_starting_values(appointment, current),
            last=last,
        )
        formset = zone_formset(appointment, chart=current, last=last)
    return render(
        request,
        "staff/chart.html",
        {
            "appointment": appointment,
            "form": form,
            "formset": formset,
            "current": current,
            "last": last,
            "filled": filled,
            "refusal": refusal,
            "history": [c for c in history if c.appointment_id != appointment.pk][:5],
            "versions": [c for c in history if c.appointment_id == appointment.pk],
            "closed": closed,
            "session_label": day.session_label(appointment),
            "day_url": _day_url(appointment),
            **_consent_context(appointment),
        },
        status=status,
    )


def _consent_context(appointment: Appointment) -> dict:
    consent = consent_services.status_for(appointment)
    return {"consent": consent, "consent_label": consent.label(appointment.location.zone)}


def _starting_values(appointment: Appointment, current: TreatmentChart | None) -> dict:
    """A new chart starts from the visit's own start and the treatment's aftercare; the last
    session's products and depths are shown beside the fields, never filled in."""
    if current is not None:
        return {}
    return {
        "numbing_applied_at": appointment.local_start.time(),
        "aftercare_given": appointment.treatment.aftercare,
    }


def _same_as_last(
    appointment: Appointment, last: TreatmentChart, current: TreatmentChart | None, data
) -> tuple[ChartForm, BaseZoneDepthFormSet]:
    """The form re-shown, unsaved, with last session's depths and products in the fields that
    were left empty; what was typed stays as typed."""
    typed = {name: data.get(name, "") for name in services.DETAIL_FIELDS}
    for name in ChartForm.LAST_TIME_FIELDS:
        if not str(typed[name]).strip():
            typed[name] = getattr(last, name)
    form = ChartForm(instance=current, appointment=appointment, initial=typed, last=last)
    entered = {
        zone: values
        for zone, values in typed_zones(zone_formset(appointment, data)).items()
        if str(values[0] or "").strip()
    }
    previous = {z.zone: (z.depth_mm, z.outside_bounds_reason) for z in last.zones.all()}
    formset = zone_formset(appointment, last=last, filled=previous | entered)
    return form, formset


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
@require_http_methods(["GET", "POST"])
def chart_correct(request, pk: int):
    appointment = _visit_for(request, pk)
    _require_own(request, appointment)
    current = appointment.charts.current().prefetch_related("zones").first()
    if current is None:
        messages.info(request, _("This visit has no chart yet."))
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
                messages.success(request, _("Correction recorded; the original entry is kept."))
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
