"""The front desk: the clinic calendar, phone bookings, status changes, patient records,
treatment plans and the waitlist. Every write goes through booking.services (or is audited
here, for patient edits), with the signed-in user as the actor."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import front_desk_required
from booking import availability, calendar, dates, queries, services, waitlist
from booking.models import (
    Appointment,
    AuditEntry,
    Location,
    Patient,
    Provider,
    Room,
    TimeOff,
    TreatmentPlan,
    WaitlistEntry,
    WorkingHours,
)
from booking.staff_forms import (
    CalendarForm,
    CancelForm,
    MoveForm,
    PatientForm,
    PhoneBookingForm,
    PlanForm,
    StatusForm,
    WaitlistForm,
)
from treatments import screening
from treatments.models import Treatment

NEAREST_FREE_TIMES = 6
OVERDUE_CLOSING_DAYS = 7
SEARCH_LIMIT = 25
PATIENT_AUDIT_FIELDS = PatientForm.Meta.fields


def _now():
    return timezone.now()


def _by_pk(model, value):
    return model.objects.filter(pk=value).first() if str(value or "").isdigit() else None


def _next_or(request, default: str) -> str:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()})
    return target if target and safe else default


AUDIT_LABELS = {
    "booked": "Booked",
    "rescheduled": "Moved",
    "cancelled": "Cancelled",
    "cancelled_late": "Cancelled late",
    "confirmed": "Confirmed",
    "checked_in": "Checked in",
    "no_show": "No-show",
    "completed": "Completed",
    "patient_created": "Patient added",
    "patient_edited": "Details changed",
    "screening_override": "Screening overridden",
    "screening_flagged": "Booked with screening flags",
    "waitlisted": "Added to waitlist",
}


def _labelled(entries):
    entries = list(entries)
    for entry in entries:
        entry.label = AUDIT_LABELS.get(entry.action, entry.action.replace("_", " ").capitalize())
    return entries


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# --- calendar ---------------------------------------------------------------------------------


def _calendar_choices(request):
    """(location, day, view, by, provider, locations) from the query string, with defaults."""
    locations = list(Location.objects.all())
    if not locations:
        raise Http404("Add a location in the admin first.")
    form = CalendarForm(request.GET)
    form.is_valid()
    cleaned = form.cleaned_data  # the values that were good; the others fall back
    if "date" in form.errors and not (request.htmx and not request.htmx.boosted):
        messages.warning(request, f"That is not a date we can show: {form.errors['date'][0]}")
    location = cleaned.get("location") or locations[0]
    location = next((loc for loc in locations if loc.pk == location.pk), location)
    day = cleaned.get("date") or location.local(_now()).date()
    view = cleaned.get("view") or "day"
    by = cleaned.get("by") or "provider"
    return location, day, view, by, cleaned.get("provider"), locations


def _day_span(location: Location, first_day: date, last_day: date):
    start = datetime.combine(first_day, time.min, tzinfo=location.zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=location.zone)
    return start, end


@dataclass(frozen=True)
class Visit:
    """What the calendar shows of an appointment, read without building model instances."""

    pk: int
    status: str
    start: datetime
    end: datetime
    provider_id: int
    room_id: int
    first_name: str
    last_name: str
    treatment: str
    numbing_minutes: int
    plan_id: int | None
    session_number: int | None
    sessions: int | None
    provider: str
    room: str

    @property
    def patient(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status_label(self) -> str:
        return Appointment.Status(self.status).label


VISIT_FIELDS = (
    "pk",
    "status",
    "start",
    "end",
    "provider_id",
    "room_id",
    "patient__first_name",
    "patient__last_name",
    "treatment__name",
    "treatment__numbing_minutes",
    "plan_id",
    "session_number",
    "plan__sessions",
    "provider__display_name",
    "room__name",
)


def _appointments_between(location, start, end, **filters) -> list[Visit]:
    rows = (
        Appointment.objects.filter(location=location, start__lt=end, end__gt=start, **filters)
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list(*VISIT_FIELDS)
    )
    return [Visit(*row) for row in rows]


def _block(visit: Visit) -> calendar.Block:
    return calendar.Block(
        key=visit.pk,
        start=visit.start,
        end=visit.end,
        numbing_minutes=visit.numbing_minutes,
        payload=visit,
    )


def _day_columns(location: Location, day: date, by: str):
    """Columns for the day view in a fixed number of queries, however many people and visits."""
    start, end = _day_span(location, day, day)
    appointments = _appointments_between(location, start, end)
    if by == "room":
        rooms = Room.objects.filter(location=location, is_active=True)
        # A room is open while anyone works here: from the first start to the last end.
        hours = WorkingHours.objects.filter(location=location, weekday=day.weekday())
        bounds = [(h.start_time, h.end_time) for h in hours]
        opening = ((min(b[0] for b in bounds), max(b[1] for b in bounds)),) if bounds else ()
        by_room = defaultdict(list)
        for appointment in appointments:
            by_room[appointment.room_id].append(_block(appointment))
        return [
            calendar.ColumnInput(
                key=f"room-{room.pk}",
                label=room.name,
                day=day,
                hours=opening,
                blocks=tuple(by_room[room.pk]),
            )
            for room in rooms
        ]
    providers = list(
        Provider.objects.active()
        .filter(locations=location)
        .prefetch_related(
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.filter(location=location, weekday=day.weekday()),
                to_attr="hours_today",
            )
        )
    )
    away = defaultdict(list)
    for provider_id, off_start, off_end in TimeOff.objects.filter(
        provider_id__in=[p.pk for p in providers], start__lt=end, end__gt=start
    ).values_list("provider_id", "start", "end"):
        away[provider_id].append((off_start, off_end))
    by_provider = defaultdict(list)
    for appointment in appointments:
        by_provider[appointment.provider_id].append(_block(appointment))
    return [
        calendar.ColumnInput(
            key=f"provider-{p.pk}",
            label=p.display_name,
            day=day,
            hours=tuple((h.start_time, h.end_time) for h in p.hours_today),
            away=tuple(away[p.pk]),
            blocks=tuple(by_provider[p.pk]),
            provider_id=p.pk,
        )
        for p in providers
    ]


def _week_columns(location: Location, monday: date, provider: Provider):
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = _day_span(location, days[0], days[-1])
    appointments = _appointments_between(location, start, end, provider=provider)
    hours = defaultdict(list)
    for h in WorkingHours.objects.filter(provider=provider, location=location):
        hours[h.weekday].append((h.start_time, h.end_time))
    away = list(
        TimeOff.objects.filter(provider=provider, start__lt=end, end__gt=start).values_list(
            "start", "end"
        )
    )
    by_day = defaultdict(list)
    for appointment in appointments:
        by_day[location.local(appointment.start).date()].append(_block(appointment))
    return [
        calendar.ColumnInput(
            key=f"day-{day:%Y-%m-%d}",
            label=f"{day:%a %b %-d}",
            day=day,
            hours=tuple(hours[day.weekday()]),
            away=tuple(away),
            blocks=tuple(by_day[day]),
            provider_id=provider.pk,
        )
        for day in days
    ]


def _column_html(
    column: calendar.Column, *, book_base: str, appointment_base: str, zone, subtitle: str
) -> str:
    """A column's shaded runs, free cells (links to book there) and visits. Built here rather
    than in the template: a busy day has a thousand cells, and this keeps it fast."""
    label = escape(column.label)
    day = f"{column.day:%Y-%m-%d}"
    provider = f"&amp;provider={column.provider_id}" if column.provider_id else ""
    shades = [
        f'<div class="cal-shade cal-{s.kind} gr-{s.row} gs-{s.rows}">'
        f"{'<span>Time off</span>' if s.kind == 'away' else ''}</div>"
        for s in column.shades
    ]
    cells = [
        f'<a class="cal-cell gr-{c.row}" data-time="{c.clock}" '
        f'href="{book_base}&amp;date={day}&amp;time={c.clock}{provider}">'
        f'<span class="visually-hidden">Book {c.clock}, {label}</span></a>'
        for c in column.cells
    ]
    blocks = [_block_html(placed, zone, appointment_base, subtitle) for placed in column.blocks]
    return mark_safe("".join(shades + cells + blocks))  # noqa: S308 - every value is escaped


def _block_html(placed: calendar.PlacedBlock, zone, appointment_base: str, subtitle: str) -> str:
    """One visit: time, patient, treatment, session k of n and status, coloured by status."""
    a = placed.block.payload
    start, end = a.start.astimezone(zone), a.end.astimezone(zone)
    where = ""
    if subtitle == "provider":
        where = f" · {escape(a.provider)}"
    elif subtitle == "room":
        where = f" · {escape(a.room)}"
    session = ""
    if a.plan_id and a.session_number:
        session = f" · session {a.session_number} of {a.sessions}"
    return (
        f'<a class="cal-appt status-{a.status} gr-{placed.row} gs-{placed.rows} '
        f'l{placed.lane}of{placed.lanes} nb-{placed.numbing_rows}" '
        f'href="{appointment_base}{a.pk}/" draggable="true" data-id="{a.pk}">'
        f'<span class="cal-appt-time">{start:%H:%M}–{end:%H:%M}{where}</span>'
        f'<strong class="cal-appt-patient">{escape(a.patient)}</strong>'
        f'<span class="cal-appt-what">{escape(a.treatment)}{session}</span>'
        f'<span class="cal-appt-status">{escape(a.status_label)}</span></a>'
    )


@front_desk_required
@require_GET
def calendar_view(request):
    location, day, view, by, provider, locations = _calendar_choices(request)
    now = _now()
    if view == "week":
        provider = provider or Provider.objects.active().filter(locations=location).first()
        if provider is None:
            view = "day"
    today = location.local(now).date()
    if view == "week":
        columns = _week_columns(location, day - timedelta(days=day.weekday()), provider)
        step = timedelta(days=7)
    else:
        columns = _day_columns(location, day, by)
        step = timedelta(days=1)
    grid = calendar.build(columns, location.zone, now=now, show_now_on=today)
    html = {
        column.key: _column_html(
            column,
            book_base=f"{reverse('desk:book')}?location={location.slug}",
            appointment_base=reverse("desk:appointment", args=[0])[:-2],
            zone=location.zone,
            # In the room view say who; in an aesthetician's week, which room.
            subtitle="provider"
            if by == "room" and view == "day"
            else "room"
            if view == "week"
            else "",
        )
        for column in grid.columns
    }
    context = {
        "location": location,
        "locations": locations,
        "day": day,
        "view": view,
        "by": by,
        "provider": provider,
        "providers": Provider.objects.active().filter(locations=location),
        "grid": grid,
        "columns": [(column, html[column.key]) for column in grid.columns],
        "previous": day - step,
        "next": day + step,
        "today": today,
        "is_today": day == today,
        "book_url": reverse("desk:book"),
        "move_url": reverse("desk:appointment_move", args=[0]),
        "overdue_count": len(_overdue_plans(now)) if view == "day" and day == today else None,
        "waiting_count": WaitlistEntry.objects.waiting().filter(location=location).count(),
    }
    partial = request.htmx and not request.htmx.boosted
    template = "staff/_calendar.html" if partial else "staff/calendar.html"
    return render(request, template, context)


# --- phone booking ----------------------------------------------------------------------------


def screening_for(patient: Patient, treatment: Treatment, today: date):
    """The patient's latest answers screened against the treatment's rules as of ``today``."""
    rules = [rule.as_rule() for rule in treatment.screening_rules.all()]
    latest = queries.latest_screening_answers(patient)
    answers = [screening.Answer(code, a.yes, a.last_occurred) for code, a in latest.items()]
    return screening.evaluate(
        rules, answers, today=today, cleared_for_protocol=patient.cleared_for_protocols
    )


def _needs_override(result) -> bool:
    return result.outcome in (screening.Outcome.NOT_NOW, screening.Outcome.CONSULT_FIRST)


def nearest_free_times(
    *, treatment, location, start: datetime, provider=None, now: datetime
) -> list[availability.Slot]:
    """Free times closest to ``start`` on its day and the next, for any (or the chosen)
    aesthetician, under the staff rules."""
    day = location.local(start).date()
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day + timedelta(days=1),
        provider_ids=[provider.pk] if provider else None,
    )
    slots = schedules.free_slots(
        day,
        day + timedelta(days=1),
        now=now,
        rules=services.rules_for(schedules, staff=True),
    )
    slots.sort(key=lambda s: (abs((s.start - start).total_seconds()), s.start, s.provider_id))
    chosen = sorted(slots[:NEAREST_FREE_TIMES], key=lambda s: (s.start, s.provider_id))
    return [(s, schedules.provider_names.get(s.provider_id, "")) for s in chosen]


def _apply_picked_slot(data, location):
    """A suggested time the desk clicked: "2027-03-02T10:15:00-05:00|7" sets date, time and
    aesthetician."""
    picked = data.get("slot", "")
    if "|" not in picked:
        return data
    when, provider_id = picked.split("|", 1)
    try:
        instant = datetime.fromisoformat(when)
    except ValueError:
        return data
    if instant.tzinfo is None or location is None:
        return data
    local = location.local(instant)
    data = data.copy()
    data["date"] = f"{local:%Y-%m-%d}"
    data["time"] = f"{local:%H:%M}"
    data["provider"] = provider_id
    data["slot"] = ""
    return data


@front_desk_required
def book(request):
    now = _now()
    suggestions, result, patient = [], None, None
    if request.method == "POST":
        data = request.POST
        location = Location.objects.filter(slug=data.get("location")).first()
        form = PhoneBookingForm(_apply_picked_slot(data, location))
        if form.is_valid():
            cleaned = form.cleaned_data
            patient = cleaned["patient"]
            location, treatment = cleaned["location"], cleaned["treatment"]
            today = location.local(now).date()
            result = screening_for(patient, treatment, today) if patient else None
            reason = cleaned["override_reason"].strip()
            if result and _needs_override(result) and not reason:
                form.add_error(
                    "override_reason",
                    "The screening says this patient should not book this treatment now. "
                    "Give a reason to book anyway.",
                )
            else:
                try:
                    appointment = _book_phone_patient(request.user, cleaned, result, now)
                except services.BookingError as error:
                    form.add_error(None, error.message)
                    suggestions = nearest_free_times(
                        treatment=treatment,
                        location=location,
                        start=cleaned["start"],
                        provider=cleaned["provider"],
                        now=now,
                    )
                else:
                    messages.success(
                        request,
                        f"Booked {appointment.patient} for {treatment} on "
                        f"{location.local(appointment.start):%a %b %-d at %H:%M} "
                        f"with {appointment.provider}.",
                    )
                    return redirect(_calendar_url(appointment))
        else:
            patient = form.cleaned_data.get("patient") if hasattr(form, "cleaned_data") else None
    else:
        initial = {
            key: request.GET[key]
            for key in ("location", "provider", "date", "time", "treatment", "patient")
            if request.GET.get(key)
        }
        if "treatment" not in initial:
            # Most calls are for the clinic's main treatment: preselect the first one offered.
            offered = Treatment.objects.active().filter(is_consultation=False)
            provider = _by_pk(Provider, initial.get("provider"))
            if provider is not None:
                offered = offered.filter(providers=provider)
            initial["treatment"] = offered.values_list("pk", flat=True).first()
        form = PhoneBookingForm(initial=initial)
        patient = _by_pk(Patient, initial.get("patient"))
    return render(
        request,
        "staff/book.html",
        {"form": form, "suggestions": suggestions, "patient": patient, "screening": result},
    )


@transaction.atomic
def _book_phone_patient(user, cleaned, result, now) -> Appointment:
    patient = cleaned["patient"]
    if patient is None:
        patient = Patient.objects.create(
            first_name=cleaned["first_name"].strip(),
            last_name=cleaned["last_name"].strip(),
            phone=cleaned["phone"].strip(),
            email=cleaned["email"].strip(),
            sms_consent=False,
        )
        services.audit(
            actor=user,
            action="patient_created",
            patient=patient,
            changes={
                f: [None, getattr(patient, f)]
                for f in ("first_name", "last_name", "phone", "email")
            },
            now=now,
        )
    appointment = services.book_appointment(
        patient=patient,
        treatment=cleaned["treatment"],
        location=cleaned["location"],
        start=cleaned["start"],
        now=now,
        provider=cleaned["provider"],
        booked_by=user,
        staff=True,
    )
    if result is not None and result.outcome != screening.Outcome.CLEAR:
        services.audit(
            actor=user,
            action="screening_override" if _needs_override(result) else "screening_flagged",
            appointment=appointment,
            reason=cleaned["override_reason"].strip(),
            changes={"screening": [result.outcome.value, [r.code for r in result.triggered]]},
            now=now,
        )
    return appointment


@front_desk_required
@require_GET
def book_screening(request):
    """The screening flags of the chosen patient for the chosen treatment (an htmx fragment)."""
    patient = _by_pk(Patient, request.GET.get("patient"))
    treatment = _by_pk(Treatment, request.GET.get("treatment"))
    location = Location.objects.filter(slug=request.GET.get("location")).first()
    result = None
    if patient and treatment:
        today = (location.local(_now()) if location else timezone.localtime()).date()
        result = screening_for(patient, treatment, today)
    return render(request, "staff/_screening.html", {"screening": result, "patient": patient})


def _calendar_url(appointment: Appointment) -> str:
    day = appointment.location.local(appointment.start).date()
    return f"{reverse('desk:calendar')}?location={appointment.location.slug}&date={day:%Y-%m-%d}"


# --- appointments -----------------------------------------------------------------------------


def _appointment_or_404(pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related(
            "patient", "treatment", "location", "provider", "room", "plan"
        ),
        pk=pk,
    )


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
            "window": services.session_window(appointment),
            "move_form": move_form,
            "cancel_form": CancelForm(),
            "audit": _labelled(appointment.audit_entries.select_related("actor")),
            "waitlist_matches": freed,
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
            appointment=appointment, status=status, now=_now(), actor=request.user
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
        )
    except services.BookingError as error:
        messages.error(request, error.message)
        return redirect("desk:appointment", pk=pk)
    late = " (late cancellation)" if cancelled.late_cancellation else ""
    messages.success(request, f"Cancelled {appointment.patient}'s visit{late}.")
    return redirect("desk:appointment", pk=pk)


# --- patients ---------------------------------------------------------------------------------


def search_patients(query: str):
    """Patients matching every word of ``query`` in a name, email or phone. On PostgreSQL the
    trigram indexes of migration 0005 serve these icontains lookups."""
    words = query.split()
    if not words:
        return Patient.objects.none()
    patients = Patient.objects.all()
    for word in words[:4]:
        patients = patients.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    return patients.order_by("last_name", "first_name", "pk")


@front_desk_required
@require_GET
def patient_list(request):
    query = request.GET.get("q", "").strip()
    results = list(search_patients(query)[: SEARCH_LIMIT + 1]) if query else []
    context = {
        "query": query,
        "patients": results[:SEARCH_LIMIT],
        "more": len(results) > SEARCH_LIMIT,
    }
    if request.htmx and request.GET.get("pick"):
        return render(request, "staff/_patient_pick.html", context)
    if request.htmx:
        return render(request, "staff/_patient_results.html", context)
    return render(request, "staff/patients.html", context)


def _plan_rows(plan: TreatmentPlan):
    """Each session of a plan with its window, its visit and whether it is out of window."""
    schedule = services.plan_schedule(plan)
    visits = {}
    for appointment in plan.appointments.all():
        if appointment.session_number is None:
            continue
        current = visits.get(appointment.session_number)
        if current is None or (not current.is_active and appointment.is_active):
            visits[appointment.session_number] = appointment
    rows = []
    for session in schedule:
        visit = visits.get(session.number)
        counted = visit is not None and visit.status != Appointment.Status.CANCELLED
        day = plan.location.local(visit.start).date() if counted else None
        rows.append(
            {
                "session": session,
                "visit": visit,
                "out_of_window": day is not None and not session.contains(day),
            }
        )
    return rows


@front_desk_required
@require_GET
def patient_detail(request, pk: int):
    patient = get_object_or_404(Patient, pk=pk)
    plans = patient.plans.select_related(
        "treatment__protocol", "location", "provider"
    ).prefetch_related(
        Prefetch(
            "appointments",
            queryset=Appointment.objects.select_related("provider").order_by("start"),
        )
    )
    appointments = patient.appointments.select_related(
        "treatment", "location", "provider", "plan"
    ).order_by("-start")
    notifications = patient.notifications.select_related("appointment").order_by("-due_at")[:50]
    return render(
        request,
        "staff/patient.html",
        {
            "patient": patient,
            "plans": [(plan, _plan_rows(plan)) for plan in plans],
            "appointments": appointments,
            "answers": patient.screening_answers.select_related("rule"),
            "audit": _labelled(
                AuditEntry.objects.filter(patient=patient).select_related(
                    "actor", "appointment__treatment"
                )[:100]
            ),
            "zone": _zone_for(patient),
            "notifications": notifications,
            "waitlist": patient.waitlist_entries.select_related(
                "treatment", "location", "provider"
            ),
        },
    )


@front_desk_required
def patient_edit(request, pk: int):
    patient = get_object_or_404(Patient, pk=pk)
    before = {field: _audit_value(getattr(patient, field)) for field in PATIENT_AUDIT_FIELDS}
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            patient = form.save()
            after = {f: _audit_value(getattr(patient, f)) for f in PATIENT_AUDIT_FIELDS}
            changes = {f: [before[f], after[f]] for f in after if before[f] != after[f]}
            if changes:
                services.audit(
                    actor=request.user,
                    action="patient_edited",
                    patient=patient,
                    changes=changes,
                    now=_now(),
                )
        messages.success(request, "Saved." if changes else "Nothing changed.")
        return redirect("desk:patient", pk=patient.pk)
    return render(request, "staff/patient_edit.html", {"patient": patient, "form": form})


def _zone_for(patient: Patient) -> str:
    """The time zone to show a patient's record in: where they were last seen."""
    latest = patient.appointments.select_related("location").order_by("-start").first()
    if latest is not None:
        return latest.location.time_zone
    return Location.objects.values_list("time_zone", flat=True).first() or "UTC"


def _audit_value(value):
    return value.isoformat() if isinstance(value, date) else value


# --- plans ------------------------------------------------------------------------------------


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
                        request, f"Booked all {plan.sessions} sessions of {plan.treatment}."
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
        messages.success(request, f"Booked session{'s' if len(booked) > 1 else ''} {numbers}.")
    return redirect("desk:plan", pk=plan.pk)


def _overdue_plans(now: datetime):
    """Active plans whose next unbooked session's window has opened or closes within a week,
    each judged by the date at the plan's own location."""
    due = []
    for plan in waitlist.plans_with_visits():
        session = waitlist.next_unbooked_session(plan)
        if session is None:
            continue
        today = plan.location.local(now).date()
        if session.earliest <= today or session.latest <= today + timedelta(
            days=OVERDUE_CLOSING_DAYS
        ):
            due.append((plan, session, (session.latest - today).days))
    due.sort(key=lambda item: item[1].latest)
    return due


@front_desk_required
@require_GET
def plans_overdue(request):
    return render(request, "staff/plans_overdue.html", {"due": _overdue_plans(_now())})


# --- waitlist ---------------------------------------------------------------------------------


@front_desk_required
def waitlist_view(request):
    patient = _by_pk(Patient, request.POST.get("patient") or request.GET.get("patient"))
    form = WaitlistForm(request.POST or None)
    if request.method == "POST":
        if patient is None:
            form.add_error(None, "Choose the patient first.")
        elif form.is_valid():
            entry = form.save(commit=False)
            entry.patient = patient
            entry.created_at = _now()
            with transaction.atomic():
                entry.save()
                services.audit(
                    actor=request.user,
                    action="waitlisted",
                    patient=patient,
                    changes={
                        "waitlist": [
                            None,
                            f"{entry.treatment} {entry.earliest_date} - {entry.latest_date}",
                        ]
                    },
                    now=_now(),
                )
            messages.success(request, f"{patient} is on the waitlist for {entry.treatment}.")
            return redirect("desk:waitlist")
    entries = (
        WaitlistEntry.objects.filter(
            status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
        )
        .select_related("patient", "treatment", "location", "provider")
        .order_by("status", "created_at")
    )
    return render(
        request,
        "staff/waitlist.html",
        {"entries": entries, "form": form, "patient": patient},
    )


@front_desk_required
@require_POST
def waitlist_update(request, pk: int):
    entry = get_object_or_404(WaitlistEntry.objects.select_related("patient", "location"), pk=pk)
    action = request.POST.get("action")
    now = _now()
    if action == "offer":
        try:
            start = datetime.fromisoformat(request.POST.get("start", ""))
        except ValueError:
            return HttpResponseBadRequest("Give the time to offer.")
        if start.tzinfo is None:
            return HttpResponseBadRequest("Give the time with its time zone.")
        if not dates.in_range(start):
            return HttpResponseBadRequest(dates.OUT_OF_RANGE)
        with transaction.atomic():
            waitlist.offer(entry, start=start, now=now)
            services.audit(
                actor=request.user,
                action="waitlist_offered",
                patient=entry.patient,
                changes={"offered": [None, start.isoformat()]},
                now=now,
            )
        messages.success(
            request, f"Offered {entry.location.local(start):%a %b %-d at %H:%M} to {entry.patient}."
        )
    elif action in ("booked", "removed", "waiting"):
        with transaction.atomic():
            before = entry.status
            entry.status = action
            entry.save(update_fields=["status"])
            services.audit(
                actor=request.user,
                action=f"waitlist_{action}",
                patient=entry.patient,
                changes={"status": [before, action]},
                now=now,
            )
        messages.success(
            request, f"{entry.patient}: waitlist entry {entry.get_status_display().lower()}."
        )
    else:
        return HttpResponseBadRequest("Unknown action.")
    return redirect(_next_or(request, reverse("desk:waitlist")))
