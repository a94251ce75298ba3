"""Treatment plans at the desk: propose and book a whole series, a plan's sessions and
windows, booking the sessions still open, and the plans whose next session is due."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import front_desk_required
from booking import schedule, services
from booking.models import Appointment, Patient, Provider, TreatmentPlan
from desk.forms import PlanForm
from desk.views.common import _labelled, _now

OVERDUE_CLOSING_DAYS = 7


def _plan_rows(plan: TreatmentPlan):
    """Each session of a plan with its window, its visit and whether it is out of window."""
    sessions = schedule.sessions(plan)
    visits: dict[int, Appointment] = {}
    for appointment in plan.appointments.all():
        if appointment.session_number is None:
            continue
        current = visits.get(appointment.session_number)
        if current is None or (not current.is_active and appointment.is_active):
            visits[appointment.session_number] = appointment
    rows = []
    for session in sessions:
        visit = visits.get(session.number)
        counted = visit is not None and visit.status != Appointment.Status.CANCELLED
        day = plan.location.local(visit.start).date() if visit is not None and counted else None
        rows.append(
            {
                "session": session,
                "visit": visit,
                "out_of_window": day is not None and not session.contains(day),
            }
        )
    return rows


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
def plan_new(request, pk: int):
    patient = get_object_or_404(Patient, pk=pk)
    now = _now()
    proposals = None
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            cleaned = form.cleaned_data
            arguments = {
                "treatment": cleaned["treatment"],
                "location": cleaned["location"],
                "sessions": cleaned["sessions"],
                "first_start": cleaned["start"],
                "now": now,
                "provider": cleaned["provider"],
                "staff": True,
            }
            try:
                if request.POST.get("action") == "book":
                    plan = services.book_plan(patient=patient, booked_by=request.user, **arguments)
                    messages.success(
                        request,
                        _("Booked all %(sessions)s sessions of %(treatment)s.")
                        % {"sessions": plan.sessions, "treatment": plan.treatment},
                    )
                    return redirect("desk:plan", pk=plan.pk)
                proposals = services.propose_plan(**arguments)
            except services.BookingError as error:
                form.add_error(None, error.message)
    else:
        form = PlanForm(initial={"date": (now + timedelta(days=1)).date(), "time": time(10)})
    names = dict(Provider.objects.values_list("pk", "display_name"))
    return render(
        request,
        "staff/plan_new.html",
        {"patient": patient, "form": form, "proposals": proposals, "names": names},
    )


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
@require_GET
def plan_detail(request, pk: int):
    plan = get_object_or_404(
        TreatmentPlan.objects.select_related(
            "patient", "treatment__protocol", "location", "provider"
        ).prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related("provider").order_by("start"),
            )
        ),
        pk=pk,
    )
    return render(
        request,
        "staff/plan.html",
        {
            "plan": plan,
            "rows": _plan_rows(plan),
            "audit": _labelled(
                plan.audit_entries.select_related("actor", "appointment__treatment")[:100]
            ),
        },
    )


@front_desk_required
@require_POST
def plan_book_remaining(request, pk: int):
    plan = get_object_or_404(TreatmentPlan, pk=pk)
    try:
        booked = services.book_remaining_sessions(plan=plan, now=_now(), booked_by=request.user)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        numbers = ", ".join(str(a.session_number) for a in booked)
        done = ngettext("Booked session %(numbers)s.", "Booked sessions %(numbers)s.", len(booked))
        messages.success(request, done % {"numbers": numbers})
    return redirect("desk:plan", pk=plan.pk)


def _overdue_plans(now: datetime):
    """Active plans whose next unbooked session's window has opened or closes within a week,
    each judged by the date at the plan's own location."""
    due = []
    for plan in schedule.plans_with_visits():
        session = schedule.next_session(plan, initial_only=True)
        if session is None:
            continue
        today = plan.location.local(now).date()
        if session.earliest <= today or session.latest <= today + timedelta(
            days=OVERDUE_CLOSING_DAYS
        ):
            due.append((plan, session, (session.latest - today).days))
    due.sort(key=lambda item: item[1].latest)
    return due


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
@require_GET
def plans_overdue(request):
    return render(request, "staff/plans_overdue.html", {"due": _overdue_plans(_now())})
