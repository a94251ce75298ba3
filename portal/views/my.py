"""My appointments, under /my/: upcoming and past visits, a course's progress and its next
session, a visit's details and calendar file, cancelling and moving a visit, contact details.
A patient reaches only their own records (accounts.roles.own_or_404: a 404 otherwise)."""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.roles import own_or_404, patient_of, patient_required
from booking import ics, schedule, services
from booking.models import Appointment, Patient, TreatmentPlan
from consent import services as consent_services
from portal.forms import ChooseTimeForm, ContactDetailsForm
from portal.views.draft import save_draft
from portal.views.times import ANY, build_week, render_week
from treatments import protocols


def patient_visits(patient: Patient):
    return Appointment.objects.for_patient(patient).select_related(
        "treatment", "location", "provider", "plan"
    )


@dataclass(frozen=True)
class PlanProgress:
    plan: TreatmentPlan
    done: int
    booked: int
    total: int
    next_session: protocols.PlannedSession | None
    next_number_label: str
    bookable_now: bool

    @property
    def steps(self) -> list[str]:
        """One word per initial session, for the progress strip."""
        return (
            ["done"] * self.done
            + ["booked"] * self.booked
            + ["to book"] * max(0, self.total - self.done - self.booked)
        )


def _plan_progress(plan: TreatmentPlan, today: date) -> PlanProgress:
    visits = [a for a in plan.appointments.all() if a.status != Appointment.Status.CANCELLED]
    done = sum(1 for a in visits if a.status == Appointment.Status.COMPLETED)
    booked = sum(1 for a in visits if a.is_active)
    upcoming = schedule.next_session(plan) if plan.status == TreatmentPlan.Status.ACTIVE else None
    label = ""
    if upcoming:
        label = (
            _("Session %(number)s of %(sessions)s")
            % {"number": upcoming.number, "sessions": plan.sessions}
            if upcoming.kind == protocols.INITIAL
            else _("Maintenance session")
        )
    horizon = today + timedelta(days=plan.location.booking_horizon_days)
    bookable_now = upcoming is not None and upcoming.earliest <= horizon
    return PlanProgress(plan, done, booked, plan.sessions, upcoming, label, bookable_now)


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def my_appointments(request):
    patient = patient_of(request.user)
    now = timezone.now()
    visits = list(patient_visits(patient).order_by("start"))
    upcoming = [a for a in visits if a.is_active and a.end >= now]
    past = [a for a in visits if a not in upcoming][::-1]
    plans = (
        patient.plans.filter(status=TreatmentPlan.Status.ACTIVE)
        .select_related("treatment__protocol", "location", "provider")
        .prefetch_related(Prefetch("appointments", queryset=Appointment.objects.order_by("start")))
    )
    progress = [_plan_progress(plan, plan.location.local(now).date()) for plan in plans]
    return render(
        request,
        "portal/my_appointments.html",
        {"patient": patient, "upcoming": upcoming, "past": past, "plans": progress, "now": now},
    )


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def visit_detail(request, pk):
    patient = patient_of(request.user)
    appointment = own_or_404(patient_visits(patient), pk=pk)
    now = timezone.now()
    window = schedule.session_window(appointment) if appointment.is_active else None
    return render(
        request,
        "portal/visit_detail.html",
        {
            "appointment": appointment,
            "window": window,
            "can_change": appointment.is_active and not appointment.is_inside_notice(now),
            "is_upcoming": appointment.is_active and appointment.start > now,
            "consent": consent_services.status_for(appointment),
        },
    )


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def visit_ics(request, pk):
    patient = patient_of(request.user)
    appointment = own_or_404(patient_visits(patient), pk=pk)
    if appointment.plan_id and request.GET.get("all"):
        visits = patient_visits(patient).filter(plan=appointment.plan).active().order_by("start")
        body = ics.for_appointments(visits, stamp=timezone.now())
    else:
        body = ics.for_appointment(appointment, stamp=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="skinclinic-visit-{pk}.ics"'
    return response


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def visit_cancel(request, pk):
    patient = patient_of(request.user)
    appointment = own_or_404(patient_visits(patient), pk=pk)
    now = timezone.now()
    if not appointment.is_active:
        messages.info(request, _("This visit is not booked any more."))
        return redirect("visit_detail", pk=pk)
    too_late = appointment.is_inside_notice(now)
    if request.method == "POST" and not too_late:
        try:
            services.cancel_appointment(
                appointment=appointment, now=now, actor=request.user, reason="Cancelled online"
            )
        except services.BookingError as error:
            messages.error(request, error.message)
            return redirect("visit_detail", pk=pk)
        messages.success(request, _("Your visit is cancelled. We hope to see you soon."))
        return redirect("my_appointments")
    return render(
        request,
        "portal/visit_cancel.html",
        {"appointment": appointment, "too_late": too_late},
        status=403 if too_late and request.method == "POST" else 200,
    )


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def visit_reschedule(request, pk):
    patient = patient_of(request.user)
    appointment = own_or_404(patient_visits(patient).active(), pk=pk)
    now = timezone.now()
    too_late = appointment.is_inside_notice(now)
    window = schedule.session_window(appointment)
    bounds = (window.earliest, window.latest) if window else None
    problem = None
    if request.method == "POST" and not too_late:
        form = ChooseTimeForm(request.POST)
        if form.is_valid():
            try:
                services.reschedule_appointment(
                    appointment=appointment,
                    start=form.cleaned_data["start"],
                    now=now,
                    actor=request.user,
                )
            except services.BookingError as error:
                problem = error.message
            else:
                messages.success(request, _("Your visit has been moved."))
                return redirect("visit_detail", pk=pk)
        else:
            problem = _("Please pick one of the times shown.")
    week = None
    if not too_late:
        week = build_week(
            request,
            treatment=appointment.treatment,
            location=appointment.location,
            provider_id=appointment.provider_id,
            now=now,
            window=bounds,
            exclude_appointment_id=appointment.pk,
        )
    context = {
        "appointment": appointment,
        "window": window,
        "week": week,
        "too_late": too_late,
        "problem": problem,
        "choose_url": request.get_full_path(),
    }
    if problem or (too_late and request.method == "POST"):
        context["zone_name"] = appointment.location.time_zone
        return render(request, "portal/visit_reschedule.html", context, status=400)
    return render_week(
        request, "portal/visit_reschedule.html", context, location=appointment.location
    )


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def plan_next(request, pk):
    """Times for the plan's next session, inside its window; picking one starts a draft."""
    patient = patient_of(request.user)
    plan = own_or_404(
        patient.plans.select_related("treatment__protocol", "location", "provider"),
        pk=pk,
        status=TreatmentPlan.Status.ACTIVE,
    )
    session = schedule.next_session(plan)
    if session is None:
        messages.info(request, _("Every session of this course is already booked."))
        return redirect("my_appointments")
    provider = plan.provider if request.GET.get("with") != ANY else None
    if request.method == "POST":
        form = ChooseTimeForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Please pick one of the times shown."))
            return redirect(request.get_full_path())
        try:
            save_draft(
                request,
                treatment=plan.treatment,
                location=plan.location,
                provider=provider,
                start=form.cleaned_data["start"],
                plan=plan,
            )
        except services.BookingError as error:
            messages.error(request, error.message)
            return redirect(request.get_full_path())
        return redirect("book_screening")
    now = timezone.now()
    today = plan.location.local(now).date()
    window = (session.earliest, session.latest) if session.number > 1 else None
    closed = window is not None and window[1] < today
    week = None
    if not closed:
        week = build_week(
            request,
            treatment=plan.treatment,
            location=plan.location,
            provider_id=provider.pk if provider else None,
            now=now,
            window=window,
        )
    context = {
        "plan": plan,
        "session": session,
        "window": window,
        "closed": closed,
        "provider": provider,
        "week": week,
        "choose_url": request.get_full_path(),
        "any_url": f"{request.path}?{urlencode({'with': ANY})}",
        "ANY": ANY,
    }
    return render_week(request, "portal/plan_next.html", context, location=plan.location)


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
def my_details(request):
    patient = patient_of(request.user)
    if request.method == "POST" and "opt_out" in request.POST:
        services.set_consent(
            patient,
            now=timezone.now(),
            actor=request.user,
            reason="Opted out online",
            email_consent=False,
            sms_consent=False,
        )
        messages.success(request, _("Done: we will not send you reminders any more."))
        return redirect("my_details")
    before = services.snapshot(patient, ContactDetailsForm.Meta.fields)
    form = ContactDetailsForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        services.save_patient(
            form.save(commit=False),
            before=before,
            actor=request.user,
            now=timezone.now(),
            action="details_edited_online",
        )
        messages.success(request, _("Your details are saved."))
        return redirect("my_details")
    return render(request, "portal/my_details.html", {"form": form, "patient": patient})
