"""What a patient does online: the locations page, the booking flow under /book/ and the
"My appointments" portal under /my/.

The booking flow keeps its choices in the session (the "draft") and writes nothing until the
patient confirms: treatment, location, aesthetician, time, then screening answers. Every write
goes through booking.services with now=timezone.now().
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from booking import availability, ics, queries, services
from booking.models import (
    Appointment,
    Location,
    Patient,
    Provider,
    ScreeningAnswer,
    TreatmentPlan,
    WorkingHours,
)
from booking.patient_forms import (
    ChooseTimeForm,
    ConfirmForm,
    ContactDetailsForm,
    ScreeningForm,
    SignInForm,
    SignUpForm,
)
from booking.ratelimit import over_limit, too_many_requests
from booking.roles import patient_of, patient_required
from treatments import protocols, screening
from treatments.models import Treatment

DRAFT = "booking_draft"
ANY = "any"
DAYS_SHOWN = 7
NEARBY_TIMES = 6


# --- Opening hours and the locations page -------------------------------------------------


def opening_hours(location: Location) -> list[tuple[str, list[tuple[time, time]]]]:
    """Weekday name -> the merged spans when at least one aesthetician works here."""
    spans: dict[int, list[tuple[time, time]]] = {day: [] for day in range(7)}
    for hours in WorkingHours.objects.filter(location=location, provider__is_active=True):
        spans[hours.weekday].append((hours.start_time, hours.end_time))
    result = []
    for day in range(7):
        merged: list[tuple[time, time]] = []
        for start, end in sorted(spans[day]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        result.append((WorkingHours.Weekday(day).label, merged))
    return result


def locations(request):
    places = [(location, opening_hours(location)) for location in Location.objects.all()]
    return render(request, "booking/locations.html", {"places": places})


# --- Weeks of free times ----------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """A week of free times to show, with links to the weeks either side (None: none)."""

    days: list[tuple[date, list[availability.Slot]]]
    first_day: date
    previous_url: str | None
    next_url: str | None


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _free_slots(
    *,
    treatment: Treatment,
    location: Location,
    provider_id: int | None,
    first_day: date,
    last_day: date,
    now: datetime,
    exclude_appointment_id: int | None = None,
) -> list[availability.Slot]:
    """Free starts for patients; with no aesthetician chosen, one slot per start time."""
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=first_day,
        last_day=last_day,
        provider_ids=[provider_id] if provider_id else None,
        exclude_appointment_id=exclude_appointment_id,
    )
    slots = schedules.free_slots(
        first_day,
        last_day,
        now=now,
    )
    unique: dict[datetime, availability.Slot] = {}
    for slot in slots:
        unique.setdefault(slot.start, slot)
    return list(unique.values())


def build_week(
    request,
    *,
    treatment: Treatment,
    location: Location,
    provider_id: int | None,
    now: datetime,
    window: tuple[date, date] | None = None,
    exclude_appointment_id: int | None = None,
) -> Week:
    """The week starting at ?week= (default: the first bookable day), kept inside `window`."""
    today = location.local(now).date()
    earliest = max(today, window[0]) if window else today
    latest = min(
        today + timedelta(days=location.booking_horizon_days), window[1] if window else date.max
    )
    first_day = _parse_day(request.GET.get("week")) or earliest
    first_day = min(max(first_day, earliest), max(latest, earliest))
    last_day = min(first_day + timedelta(days=DAYS_SHOWN - 1), latest)
    slots = (
        _free_slots(
            treatment=treatment,
            location=location,
            provider_id=provider_id,
            first_day=first_day,
            last_day=last_day,
            now=now,
            exclude_appointment_id=exclude_appointment_id,
        )
        if first_day <= last_day
        else []
    )
    by_day: dict[date, list[availability.Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)

    def link(day: date) -> str:
        query = request.GET.copy()
        query["week"] = day.isoformat()
        return f"{request.path}?{query.urlencode()}"

    previous_day = max(first_day - timedelta(days=DAYS_SHOWN), earliest)
    next_day = first_day + timedelta(days=DAYS_SHOWN)
    return Week(
        days=sorted(by_day.items()),
        first_day=first_day,
        previous_url=link(previous_day) if first_day > earliest else None,
        next_url=link(next_day) if next_day <= latest else None,
    )


def _render_week(request, template: str, context: dict, *, location: Location):
    """The whole page, or only the week when htmx asks for it."""
    context["zone_name"] = location.time_zone
    if request.htmx:
        return render(request, "booking/_week.html", context)
    return render(request, template, context)


# --- The draft: what the patient has chosen so far -----------------------------------------


@dataclass
class Draft:
    treatment: Treatment
    location: Location
    provider: Provider | None
    start: datetime
    sessions: int | None
    plan: TreatmentPlan | None
    answers: list[screening.Answer] | None
    answered_on: date | None
    answers_saved: bool

    @property
    def protocol(self):
        return None if self.plan else self.treatment.protocol_or_none

    @property
    def local_start(self) -> datetime:
        return self.location.local(self.start)


def _save_draft(request, **values) -> None:
    request.session[DRAFT] = {
        "treatment": values["treatment"].pk,
        "location": values["location"].pk,
        "provider": values["provider"].pk if values.get("provider") else None,
        "start": values["start"].isoformat(),
        "plan": values["plan"].pk if values.get("plan") else None,
        "sessions": None,
        "answers": None,
        "answered_on": None,
        "answers_saved": False,
    }


def _update_draft(request, **changes) -> None:
    request.session[DRAFT] = {**request.session[DRAFT], **changes}


def _load_draft(request) -> Draft | None:
    raw = request.session.get(DRAFT)
    if not raw:
        return None
    try:
        treatment = Treatment.objects.active().select_related("protocol").get(pk=raw["treatment"])
        location = Location.objects.get(pk=raw["location"])
        provider = Provider.objects.active().get(pk=raw["provider"]) if raw["provider"] else None
        plan = None
        if raw["plan"]:
            patient = patient_of(request.user)
            plan = TreatmentPlan.objects.select_related("treatment__protocol", "location").get(
                pk=raw["plan"], patient=patient
            )
    except (Treatment.DoesNotExist, Location.DoesNotExist, Provider.DoesNotExist):
        return None
    except TreatmentPlan.DoesNotExist:
        return None
    answers = raw.get("answers")
    return Draft(
        treatment=treatment,
        location=location,
        provider=provider,
        start=datetime.fromisoformat(raw["start"]),
        sessions=raw.get("sessions"),
        plan=plan,
        answers=None
        if answers is None
        else [
            screening.Answer(a["code"], a["yes"], _parse_day(a.get("last_occurred")))
            for a in answers
        ],
        answered_on=_parse_day(raw.get("answered_on")),
        answers_saved=raw.get("answers_saved", False),
    )


def _start_over(request, message="Let's start your booking again."):
    request.session.pop(DRAFT, None)
    messages.info(request, message)
    return redirect("book_start")


# --- Screening ------------------------------------------------------------------------------


def _rules(treatment: Treatment):
    return list(treatment.screening_rules.all())


def _last_answers(patient: Patient | None) -> dict[str, screening.Answer]:
    """The latest stored answer per question, to pre-fill the screening."""
    if patient is None:
        return {}
    return {
        code: screening.Answer(code, answer.yes, answer.last_occurred)
        for code, answer in queries.latest_screening_answers(patient).items()
    }


def _screen(draft: Draft, patient: Patient | None, today: date) -> screening.ScreeningResult:
    return screening.evaluate(
        [rule.as_rule() for rule in _rules(draft.treatment)],
        draft.answers or [],
        today=today,
        cleared_for_protocol=bool(patient and patient.cleared_for_protocols),
    )


def _store_answers(patient: Patient, draft: Draft, *, now: datetime) -> None:
    rules = {rule.code: rule for rule in _rules(draft.treatment)}
    ScreeningAnswer.objects.bulk_create(
        ScreeningAnswer(
            patient=patient,
            rule=rules[answer.code],
            yes=answer.yes,
            last_occurred=answer.last_occurred,
            answered_at=now,
        )
        for answer in draft.answers or []
        if answer.code in rules
    )


def _route_after_screening(result: screening.ScreeningResult):
    if result.unanswered:
        return redirect("book_screening")
    if result.outcome == screening.Outcome.NOT_NOW:
        return redirect("book_not_now")
    if result.needs_consultation:
        return redirect("book_consult_first")
    return None


def _consultation() -> Treatment | None:
    return Treatment.objects.active().filter(is_consultation=True).first()


# --- The booking flow -----------------------------------------------------------------------


def book_start(request):
    treatments = Treatment.objects.active().select_related("protocol")
    return render(request, "booking/book_start.html", {"treatments": treatments})


def _offering(treatment: Treatment):
    return Location.objects.filter(
        providers__treatments=treatment,
        providers__is_active=True,
        rooms__treatments=treatment,
        rooms__is_active=True,
    ).distinct()


def book_location(request, slug):
    treatment = get_object_or_404(Treatment.objects.active(), slug=slug)
    places = list(_offering(treatment))
    if len(places) == 1:
        return redirect("book_provider", slug=treatment.slug, location_slug=places[0].slug)
    return render(
        request, "booking/book_location.html", {"treatment": treatment, "locations": places}
    )


def _treatment_and_location(slug, location_slug):
    treatment = get_object_or_404(Treatment.objects.active().select_related("protocol"), slug=slug)
    location = get_object_or_404(_offering(treatment), slug=location_slug)
    return treatment, location


def book_provider(request, slug, location_slug):
    treatment, location = _treatment_and_location(slug, location_slug)
    providers = Provider.objects.performing(treatment, location)
    return render(
        request,
        "booking/book_provider.html",
        {"treatment": treatment, "location": location, "providers": providers, "ANY": ANY},
    )


def _chosen_provider(raw: str | None, treatment, location) -> Provider | None:
    if not raw or raw == ANY:
        return None
    try:
        return Provider.objects.performing(treatment, location).get(pk=int(raw))
    except (ValueError, Provider.DoesNotExist):
        raise Http404("No such aesthetician here.") from None


def book_times(request, slug, location_slug):
    treatment, location = _treatment_and_location(slug, location_slug)
    provider = _chosen_provider(request.GET.get("with"), treatment, location)
    if request.method == "POST":
        form = ChooseTimeForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Please pick one of the times shown.")
            return redirect(request.get_full_path())
        _save_draft(
            request,
            treatment=treatment,
            location=location,
            provider=provider,
            start=form.cleaned_data["start"],
        )
        return redirect("book_screening")
    now = timezone.now()
    week = build_week(
        request,
        treatment=treatment,
        location=location,
        provider_id=provider.pk if provider else None,
        now=now,
    )
    context = {
        "treatment": treatment,
        "location": location,
        "provider": provider,
        "providers": Provider.objects.performing(treatment, location),
        "week": week,
        "choose_url": request.get_full_path(),
        "ANY": ANY,
    }
    return _render_week(request, "booking/book_times.html", context, location=location)


def book_screening(request):
    draft = _load_draft(request)
    if draft is None:
        return _start_over(request)
    rules = _rules(draft.treatment)
    patient = patient_of(request.user)
    if not rules:
        today = draft.location.local(timezone.now()).date()
        _update_draft(request, answers=[], answered_on=today.isoformat())
        return redirect("book_review" if patient else "book_account")
    previous = {a.code: a for a in draft.answers} if draft.answers else _last_answers(patient)
    form = ScreeningForm(request.POST or None, rules=rules, previous=previous)
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        answers = form.answers()
        _update_draft(
            request,
            answers=[
                {
                    "code": a.code,
                    "yes": a.yes,
                    "last_occurred": a.last_occurred.isoformat() if a.last_occurred else None,
                }
                for a in answers
            ],
            answered_on=draft.location.local(now).date().isoformat(),
            answers_saved=patient is not None,
        )
        draft = _load_draft(request)
        if patient is not None:
            _store_answers(patient, draft, now=now)
        result = _screen(draft, patient, draft.location.local(now).date())
        return _route_after_screening(result) or redirect(
            "book_review" if patient else "book_account"
        )
    return render(
        request,
        "booking/book_screening.html",
        {"draft": draft, "form": form, "reconfirm": bool(draft.plan or previous)},
    )


def _why_a_consultation(request, outcome: screening.Outcome, template: str):
    """Explain kindly which answers led here, and offer a consultation."""
    draft = _load_draft(request)
    if draft is None or draft.answers is None:
        return _start_over(request)
    result = _screen(draft, patient_of(request.user), draft.location.local(timezone.now()).date())
    reasons = [rule for rule in result.triggered if rule.outcome == outcome]
    return render(
        request, template, {"draft": draft, "reasons": reasons, "consultation": _consultation()}
    )


def book_not_now(request):
    return _why_a_consultation(request, screening.Outcome.NOT_NOW, "booking/book_not_now.html")


def book_consult_first(request):
    return _why_a_consultation(
        request, screening.Outcome.CONSULT_FIRST, "booking/book_consult_first.html"
    )


@require_POST
def book_consultation(request):
    """Swap the treatment for a consultation at the same place; the patient picks a time."""
    draft = _load_draft(request)
    consultation = _consultation()
    if consultation is None:
        messages.info(request, "Please call us to book a consultation.")
        return redirect("locations")
    location_slug = draft.location.slug if draft else None
    if location_slug is None or not _offering(consultation).filter(slug=location_slug).exists():
        return redirect("book_location", slug=consultation.slug)
    return redirect("book_provider", slug=consultation.slug, location_slug=location_slug)


def book_account(request):
    draft = _load_draft(request)
    if draft is None:
        return _start_over(request)
    if patient_of(request.user):
        return redirect("book_review")
    return render(
        request,
        "booking/book_account.html",
        {
            "draft": draft,
            "signin_form": SignInForm(request),
            "signup_form": SignUpForm(),
            "next": reverse("book_review"),
            "staff_signed_in": request.user.is_authenticated,
        },
    )


def _nearby_times(draft: Draft, *, now: datetime, window=None) -> list[availability.Slot]:
    """Free times closest to the one the patient chose, for when it was just taken."""
    day = draft.local_start.date()
    first_day, last_day = day - timedelta(days=1), day + timedelta(days=6)
    if window:
        first_day, last_day = max(first_day, window[0]), min(last_day, window[1])
    slots = _free_slots(
        treatment=draft.treatment,
        location=draft.location,
        provider_id=draft.provider.pk if draft.provider else None,
        first_day=first_day,
        last_day=last_day,
        now=now,
    )
    closest = sorted(slots, key=lambda s: abs(s.start - draft.start))[:NEARBY_TIMES]
    return sorted(closest, key=lambda s: s.start)


def _plan_session(draft: Draft) -> protocols.PlannedSession | None:
    return services.next_session(draft.plan) if draft.plan else None


def _book(draft: Draft, *, patient: Patient, choice: str, sessions: int, user, now: datetime):
    """Make the booking the patient confirmed; return the first visit."""
    common = {
        "treatment": draft.treatment,
        "location": draft.location,
        "provider": draft.provider,
        "now": now,
        "booked_by": user,
    }
    if draft.plan:
        return services.book_plan_session(
            plan=draft.plan, start=draft.start, now=now, provider=draft.provider, booked_by=user
        )
    if draft.protocol and choice == ConfirmForm.BOOK_ALL:
        plan = services.book_plan(
            patient=patient, sessions=sessions, first_start=draft.start, **common
        )
        return plan.appointments.order_by("start").first()
    if draft.protocol:
        return services.start_plan(
            patient=patient, sessions=sessions, first_start=draft.start, **common
        )
    kind = (
        Appointment.Kind.CONSULTATION
        if draft.treatment.is_consultation
        else Appointment.Kind.SINGLE
    )
    return services.book_appointment(patient=patient, start=draft.start, kind=kind, **common)


def book_review(request):
    draft = _load_draft(request)
    if draft is None:
        return _start_over(request)
    patient = patient_of(request.user)
    if patient is None:
        return redirect("book_account")
    now = timezone.now()
    today = draft.location.local(now).date()
    if draft.answers is None or not screening.answers_are_current(draft.answered_on, today=today):
        messages.info(request, "Please confirm your health answers for today.")
        return redirect("book_screening")
    result = _screen(draft, patient, today)
    detour = _route_after_screening(result)
    if detour:
        return detour

    session = _plan_session(draft)
    window = (session.earliest, session.latest) if session and session.number > 1 else None
    protocol = draft.protocol
    form = ConfirmForm(request.POST or request.GET or None)
    sessions = draft.sessions or (protocol.default_sessions if protocol else 1)
    if form.is_valid() and form.cleaned_data.get("sessions") and protocol:
        sessions = min(
            max(form.cleaned_data["sessions"], protocol.min_sessions), protocol.max_sessions
        )
        _update_draft(request, sessions=sessions)

    problem = None
    taken = False
    booked = None
    if request.method == "POST" and "start" in request.POST:
        picked = ChooseTimeForm(request.POST)
        if picked.is_valid():
            _update_draft(request, start=picked.cleaned_data["start"].isoformat())
            return redirect(reverse("book_review") + f"?sessions={sessions}")
    elif request.method == "POST" and form.is_valid():
        if over_limit(request, "booking"):
            return too_many_requests(request, "booking")
        choice = form.cleaned_data.get("choice") or ConfirmForm.BOOK_ONE
        try:
            booked = _book(
                draft, patient=patient, choice=choice, sessions=sessions, user=request.user, now=now
            )
        except services.SlotTaken:
            taken = True
        except services.BookingError as error:
            problem = error.message
        if booked is not None:
            if not draft.answers_saved:
                _store_answers(patient, draft, now=now)
            request.session.pop(DRAFT, None)
            return redirect("book_done", pk=booked.pk)

    proposals = None
    if protocol and not taken:
        try:
            proposals = services.propose_plan(
                treatment=draft.treatment,
                location=draft.location,
                sessions=sessions,
                first_start=draft.start,
                now=now,
                provider=draft.provider,
            )
        except services.SlotTaken:
            taken = True
        except services.BookingError as error:
            problem = problem or error.message
    elif not taken and request.method == "GET":
        problem = _why_not_bookable(draft, now=now, window=window)
        taken = problem == "taken"
        problem = None if taken else problem
    context = {
        "draft": draft,
        "patient": patient,
        "result": result,
        "protocol": protocol,
        "sessions": sessions,
        "session_choices": range(protocol.min_sessions, protocol.max_sessions + 1)
        if protocol
        else (),
        "proposals": proposals,
        "unplaced": [
            p for p in proposals or () if p.slot is None and p.session.kind == protocols.INITIAL
        ],
        "plan_session": session,
        "problem": problem,
        "taken": taken,
        "nearby": _nearby_times(draft, now=now, window=window) if taken or problem else [],
    }
    return render(request, "booking/book_review.html", context, status=409 if taken else 200)


def _why_not_bookable(draft: Draft, *, now: datetime, window) -> str | None:
    """Check the chosen time is still free; "taken", a message, or None when it is fine."""
    if window and not window[0] <= draft.local_start.date() <= window[1]:
        return f"Please pick a time between {window[0]:%b %-d} and {window[1]:%b %-d}."
    slots = _free_slots(
        treatment=draft.treatment,
        location=draft.location,
        provider_id=draft.provider.pk if draft.provider else None,
        first_day=draft.local_start.date(),
        last_day=draft.local_start.date(),
        now=now,
    )
    if any(slot.start == draft.start for slot in slots):
        return None
    return "taken"


@patient_required
def book_done(request, pk):
    patient = patient_of(request.user)
    appointment = get_object_or_404(_visits(patient), pk=pk)
    visits = (
        _visits(patient).filter(plan=appointment.plan).active()
        if appointment.plan_id
        else [appointment]
    )
    return render(
        request,
        "booking/book_done.html",
        {"appointment": appointment, "visits": visits, "plan": appointment.plan},
    )


# --- The portal ---------------------------------------------------------------------------


def _visits(patient: Patient):
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
    upcoming = services.next_session(plan) if plan.status == TreatmentPlan.Status.ACTIVE else None
    label = ""
    if upcoming:
        label = (
            f"Session {upcoming.number} of {plan.sessions}"
            if upcoming.kind == protocols.INITIAL
            else "Maintenance session"
        )
    horizon = today + timedelta(days=plan.location.booking_horizon_days)
    bookable_now = upcoming is not None and upcoming.earliest <= horizon
    return PlanProgress(plan, done, booked, plan.sessions, upcoming, label, bookable_now)


@patient_required
def my_appointments(request):
    patient = patient_of(request.user)
    now = timezone.now()
    visits = list(_visits(patient).order_by("start"))
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
        "booking/my_appointments.html",
        {"patient": patient, "upcoming": upcoming, "past": past, "plans": progress, "now": now},
    )


@patient_required
def visit_detail(request, pk):
    patient = patient_of(request.user)
    appointment = get_object_or_404(_visits(patient), pk=pk)
    now = timezone.now()
    window = services.session_window(appointment) if appointment.is_active else None
    return render(
        request,
        "booking/visit_detail.html",
        {
            "appointment": appointment,
            "window": window,
            "can_change": appointment.is_active and not appointment.is_inside_notice(now),
            "is_upcoming": appointment.is_active and appointment.start > now,
        },
    )


@patient_required
def visit_ics(request, pk):
    patient = patient_of(request.user)
    appointment = get_object_or_404(_visits(patient), pk=pk)
    if appointment.plan_id and request.GET.get("all"):
        visits = _visits(patient).filter(plan=appointment.plan).active().order_by("start")
        body = ics.for_appointments(visits, stamp=timezone.now())
    else:
        body = ics.for_appointment(appointment, stamp=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="skinclinic-visit-{pk}.ics"'
    return response


@patient_required
def visit_cancel(request, pk):
    patient = patient_of(request.user)
    appointment = get_object_or_404(_visits(patient), pk=pk)
    now = timezone.now()
    if not appointment.is_active:
        messages.info(request, "This visit is not booked any more.")
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
        messages.success(request, "Your visit is cancelled. We hope to see you soon.")
        return redirect("my_appointments")
    return render(
        request,
        "booking/visit_cancel.html",
        {"appointment": appointment, "too_late": too_late},
        status=403 if too_late and request.method == "POST" else 200,
    )


@patient_required
def visit_reschedule(request, pk):
    patient = patient_of(request.user)
    appointment = get_object_or_404(_visits(patient).active(), pk=pk)
    now = timezone.now()
    too_late = appointment.is_inside_notice(now)
    window = services.session_window(appointment)
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
                messages.success(request, "Your visit has been moved.")
                return redirect("visit_detail", pk=pk)
        else:
            problem = "Please pick one of the times shown."
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
        return render(request, "booking/visit_reschedule.html", context, status=400)
    return _render_week(
        request, "booking/visit_reschedule.html", context, location=appointment.location
    )


@patient_required
def plan_next(request, pk):
    """Times for the plan's next session, inside its window; picking one starts a draft."""
    patient = patient_of(request.user)
    plan = get_object_or_404(
        patient.plans.select_related("treatment__protocol", "location", "provider"),
        pk=pk,
        status=TreatmentPlan.Status.ACTIVE,
    )
    session = services.next_session(plan)
    if session is None:
        messages.info(request, "Every session of this course is already booked.")
        return redirect("my_appointments")
    provider = plan.provider if request.GET.get("with") != ANY else None
    if request.method == "POST":
        form = ChooseTimeForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Please pick one of the times shown.")
            return redirect(request.get_full_path())
        _save_draft(
            request,
            treatment=plan.treatment,
            location=plan.location,
            provider=provider,
            start=form.cleaned_data["start"],
            plan=plan,
        )
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
    return _render_week(request, "booking/plan_next.html", context, location=plan.location)


@patient_required
def my_details(request):
    patient = patient_of(request.user)
    if request.method == "POST" and "opt_out" in request.POST:
        patient.email_consent = patient.sms_consent = False
        patient.save(update_fields=["email_consent", "sms_consent"])
        messages.success(request, "Done: we will not send you reminders any more.")
        return redirect("my_details")
    form = ContactDetailsForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your details are saved.")
        return redirect("my_details")
    return render(request, "booking/my_details.html", {"form": form, "patient": patient})
