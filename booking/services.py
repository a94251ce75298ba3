"""Every write to appointments and plans goes through here: one transaction per operation.

Services take `now` as an argument, so rules that depend on the clock are testable. Overlaps
are checked in Python for a clear message, but the database decides: on PostgreSQL the
exclusion constraints of migration 0002; on SQLite every transaction takes the write lock
when it begins (settings: transaction_mode IMMEDIATE), so check-then-insert cannot interleave.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction

from booking import availability, queries, reminders, waitlist
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AuditEntry,
    Location,
    Patient,
    Provider,
    TreatmentPlan,
)
from treatments import protocols, screening
from treatments.models import Treatment

# Staff may book any minute inside working hours, at short notice and far ahead.
FAR_AHEAD_DAYS = 3650  # "no horizon": ten years
STAFF_RULES_OVERRIDE = {"min_notice_minutes": 0, "horizon_days": FAR_AHEAD_DAYS}


class BookingError(Exception):
    """A booking that cannot be made, with a message for the person booking."""

    status_code = 400

    @property
    def message(self) -> str:
        return str(self)


class SlotTaken(BookingError):
    status_code = 409


class OutsideWindow(BookingError):
    pass


class ScreeningRequired(BookingError):
    """The safety screening does not clear this patient for this treatment (yet)."""

    status_code = 409


class InsideNotice(BookingError):
    """Online changes are closed this close to the visit: the patient must call."""

    status_code = 409


class SessionNotPlaced(BookingError):
    status_code = 409

    def __init__(self, message: str, *, session_number: int):
        super().__init__(message)
        self.session_number = session_number


@dataclass(frozen=True)
class Proposal:
    """One session of a plan with the time proposed for it (None when nothing is free)."""

    session: protocols.PlannedSession
    slot: availability.Slot | None


def _is_exclusion_violation(error: IntegrityError) -> bool:
    cause = getattr(error, "__cause__", None)
    return getattr(cause, "pgcode", None) == "23P01"  # PostgreSQL exclusion_violation


def _save_holding_time(appointment: Appointment) -> None:
    """Save in a savepoint and turn the no-overlap constraint's error into SlotTaken."""
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            raise SlotTaken("That time was just taken. Please choose another time.") from error
        raise


def audit(
    *,
    actor,
    action: str,
    appointment: Appointment | None = None,
    patient: Patient | None = None,
    plan: TreatmentPlan | None = None,
    reason: str = "",
    changes: dict | None = None,
    now: datetime,
) -> AuditEntry:
    if appointment is not None:
        patient = patient or appointment.patient
        plan = plan or appointment.plan
    return AuditEntry.objects.create(
        at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        appointment=appointment,
        patient=patient,
        plan=plan,
        reason=reason,
        changes=changes or {},
    )


def rules_for(
    schedules: queries.Schedules, *, staff: bool, later_session: bool = False
) -> availability.Rules:
    """The location's booking rules; staff skip the notice and the horizon. A course runs
    past the online horizon, so only its first visit is held to it."""
    rules = replace(schedules.rules, **STAFF_RULES_OVERRIDE) if staff else schedules.rules
    if later_session:
        rules = replace(rules, horizon_days=max(rules.horizon_days, FAR_AHEAD_DAYS))
    return rules


def _why_not_free(
    start: datetime, schedules: queries.Schedules, provider_id: int, *, staff: bool, now: datetime
) -> BookingError:
    """Tell apart "taken" from "not a bookable time at all"."""
    provider = schedules.provider(provider_id)
    if provider is None:
        return BookingError("This aesthetician does not offer this treatment here.")
    if not schedules.rooms:
        return BookingError("No room here can host this treatment.")
    rules = rules_for(schedules, staff=staff)
    if start < now + timedelta(minutes=rules.min_notice_minutes):
        hours = rules.min_notice_minutes / 60
        return BookingError(f"Online bookings need at least {hours:g} hours' notice.")
    if start > now + timedelta(days=rules.horizon_days):
        return BookingError(f"Bookings open {rules.horizon_days} days ahead.")
    idle = replace(provider, busy=())
    rooms = tuple(replace(r, busy=()) for r in schedules.rooms)
    if (
        availability.is_free(
            start,
            timing=schedules.timing,
            tz=schedules.tz,
            provider=idle,
            rooms=rooms,
            now=now,
            rules=rules,
            require_step=not staff,
        )
        is None
    ):
        return BookingError("That time is outside the aesthetician's working hours.")
    return SlotTaken("That time is already taken. Please choose another time.")


def _find_slot(
    start: datetime,
    schedules: queries.Schedules,
    provider_id: int | None,
    *,
    staff: bool,
    now: datetime,
) -> availability.Slot:
    candidates = (
        [schedules.provider(provider_id)] if provider_id is not None else schedules.providers
    )
    for provider in candidates:
        if provider is None:
            continue
        slot = availability.is_free(
            start,
            timing=schedules.timing,
            tz=schedules.tz,
            provider=provider,
            rooms=schedules.rooms,
            now=now,
            rules=rules_for(schedules, staff=staff),
            require_step=not staff,
        )
        if slot is not None:
            return slot
    if provider_id is None:
        if not schedules.providers:
            raise BookingError("Nobody offers this treatment at this location.")
        provider_id = schedules.providers[0].provider_id
    raise _why_not_free(start, schedules, provider_id, staff=staff, now=now)


def _local_date(location: Location, instant: datetime) -> date:
    return location.local(instant).date()


def _check_bookable(treatment: Treatment, location: Location, start: datetime) -> None:
    if not treatment.is_active:
        raise BookingError("This treatment is not offered at the moment.")
    if start.tzinfo is None:
        raise BookingError("Give the time with its time zone.")


@transaction.atomic
def book_appointment(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    start: datetime,
    now: datetime,
    provider: Provider | None = None,
    booked_by=None,
    staff: bool = False,
    kind: str = Appointment.Kind.SINGLE,
    plan: TreatmentPlan | None = None,
    session_number: int | None = None,
    out_of_window_reason: str = "",
    confirm: bool = True,
) -> Appointment:
    """Book one visit. `provider=None` takes the first aesthetician free at that time.
    `staff=True` lifts online notice, horizon and the slot grid (working hours still apply).
    `confirm=False` leaves the confirmation message to another visit (a course's first)."""
    _check_bookable(treatment, location, start)
    day = _local_date(location, start)
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day,
        provider_ids=[provider.pk] if provider else None,
    )
    slot = _find_slot(start, schedules, provider.pk if provider else None, staff=staff, now=now)
    appointment = Appointment(
        patient=patient,
        treatment=treatment,
        location=location,
        provider_id=slot.provider_id,
        room_id=slot.room_id,
        kind=kind,
        plan=plan,
        session_number=session_number,
        out_of_window_reason=out_of_window_reason,
        booked_by=booked_by if getattr(booked_by, "is_authenticated", False) else None,
    )
    appointment.set_times(start)
    _save_holding_time(appointment)
    audit(
        actor=booked_by,
        action="booked",
        appointment=appointment,
        reason=out_of_window_reason,
        changes={"start": [None, start.isoformat()]},
        now=now,
    )
    reminders.appointment_booked(appointment, now=now, confirm=confirm)
    return appointment


def _plan_fixed_dates(plan: TreatmentPlan, *, exclude_id: int | None = None) -> dict[int, date]:
    """Session number -> local date, for the plan's sessions that are booked or done."""
    fixed = {}
    appointments = plan.appointments.filter(
        status__in=(*ACTIVE_STATUSES, Appointment.Status.COMPLETED),
        session_number__isnull=False,
    ).exclude(pk=exclude_id)
    for appointment in appointments:
        fixed[appointment.session_number] = _local_date(plan.location, appointment.start)
    return fixed


def plan_schedule(
    plan: TreatmentPlan, *, exclude_id: int | None = None
) -> tuple[protocols.PlannedSession, ...]:
    """The plan's sessions with their windows, from the dates booked or done so far."""
    rules = plan.treatment.protocol.rules
    fixed = _plan_fixed_dates(plan, exclude_id=exclude_id)
    return protocols.plan_sessions(
        rules, sessions=plan.sessions, first_date=fixed.get(1, plan.first_date), fixed_dates=fixed
    )


def session_window(appointment: Appointment) -> protocols.PlannedSession | None:
    """The window the appointment's plan session must fall in, ignoring its own date."""
    if appointment.plan_id is None or appointment.session_number is None:
        return None
    if appointment.session_number == 1:
        return None  # the first session sets the plan's start; it has no window of its own
    schedule = plan_schedule(appointment.plan, exclude_id=appointment.pk)
    return next((s for s in schedule if s.number == appointment.session_number), None)


@dataclass
class _Preference:
    """What later sessions of a plan try to keep from the first: aesthetician, weekday, time."""

    provider_id: int | None = None
    weekday: int | None = None
    wall_minutes: int | None = None

    def score(self, slot: availability.Slot, target: date, tz) -> tuple:
        local = slot.start.astimezone(tz)
        minutes = local.hour * 60 + local.minute
        return (
            self.provider_id is not None and slot.provider_id != self.provider_id,
            self.weekday is not None and local.weekday() != self.weekday,
            abs(minutes - self.wall_minutes) if self.wall_minutes is not None else 0,
            abs((local.date() - target).days),
            slot.start,
        )


def propose_plan(
    *,
    treatment: Treatment,
    location: Location,
    sessions: int,
    first_start: datetime | date,
    now: datetime,
    provider: Provider | None = None,
    staff: bool = False,
) -> list[Proposal]:
    """Propose a time for every initial session: the same aesthetician, weekday and
    wall-clock time as the first where free, else the closest in the session's window.
    Maintenance sessions are listed with their windows; they are booked when recalled.
    `first_start` is an exact first visit (a datetime) or a day to find the first one in."""
    protocol = treatment.protocol_or_none
    if protocol is None:
        raise BookingError("This treatment is not a course of sessions.")
    rules = protocol.rules
    if isinstance(first_start, datetime):
        _check_bookable(treatment, location, first_start)
        first_day = _local_date(location, first_start)
    else:
        first_day = first_start
    try:
        protocols.plan_sessions(rules, sessions=sessions, first_date=first_day)
    except protocols.PlanError as error:
        raise BookingError(str(error)) from error
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=first_day,
        last_day=first_day + timedelta(days=(sessions - 1) * rules.interval_max_days),
        provider_ids=[provider.pk] if provider else None,
    )
    first_rules = rules_for(schedules, staff=staff)
    later_rules = rules_for(schedules, staff=staff, later_session=True)
    preference = _Preference(provider_id=provider.pk if provider else None)
    proposals: list[Proposal] = []
    fixed: dict[int, date] = {}
    for number in range(1, sessions + 1):
        session = protocols.plan_sessions(
            rules, sessions=sessions, first_date=fixed.get(1, first_day), fixed_dates=fixed
        )[number - 1]
        if number == 1 and isinstance(first_start, datetime):
            slot = _find_slot(first_start, schedules, preference.provider_id, staff=staff, now=now)
        else:
            free = schedules.free_slots(
                session.earliest,
                session.latest,
                now=now,
                rules=first_rules if number == 1 else later_rules,
            )
            slot = min(
                free, key=lambda s: preference.score(s, session.target, schedules.tz), default=None
            )
        proposals.append(Proposal(session=session, slot=slot))
        if slot is None:
            fixed[number] = session.target  # later windows still hang on this session
            continue
        local = slot.start.astimezone(schedules.tz)
        fixed[number] = local.date()
        if number == 1:
            preference = _Preference(
                provider_id=slot.provider_id,
                weekday=local.weekday(),
                wall_minutes=local.hour * 60 + local.minute,
            )
        schedules = _with_hold(schedules, slot)

    final = protocols.plan_sessions(
        rules, sessions=sessions, first_date=fixed[1], fixed_dates=fixed
    )
    proposals += [Proposal(session=s, slot=None) for s in final if s.kind != protocols.INITIAL]
    return proposals


def _with_hold(schedules: queries.Schedules, slot: availability.Slot) -> queries.Schedules:
    """The schedules as they would be once `slot` is booked."""
    room_hold, provider_hold = availability.holds(slot.start, schedules.timing)
    return replace(
        schedules,
        providers=tuple(
            replace(p, busy=(*p.busy, provider_hold)) if p.provider_id == slot.provider_id else p
            for p in schedules.providers
        ),
        rooms=tuple(
            replace(r, busy=(*r.busy, room_hold)) if r.room_id == slot.room_id else r
            for r in schedules.rooms
        ),
    )


@transaction.atomic
def book_plan(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    sessions: int,
    first_start: datetime | date,
    now: datetime,
    provider: Provider | None = None,
    booked_by=None,
    staff: bool = False,
) -> TreatmentPlan:
    """Start a plan and book all its initial sessions, or none of them."""
    proposals = propose_plan(
        treatment=treatment,
        location=location,
        sessions=sessions,
        first_start=first_start,
        now=now,
        provider=provider,
        staff=staff,
    )
    for proposal in proposals:
        if proposal.session.kind == protocols.INITIAL and proposal.slot is None:
            s = proposal.session
            raise SessionNotPlaced(
                f"Session {s.number} could not be placed: nothing is free between "
                f"{s.earliest:%b %-d} and {s.latest:%b %-d}.",
                session_number=s.number,
            )
    initial = [p for p in proposals if p.session.kind == protocols.INITIAL]
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=treatment,
        location=location,
        provider_id=initial[0].slot.provider_id,
        sessions=sessions,
        first_date=_local_date(location, initial[0].slot.start),
        created_by=booked_by if getattr(booked_by, "is_authenticated", False) else None,
    )
    for proposal in initial:
        try:
            book_appointment(
                patient=patient,
                treatment=treatment,
                location=location,
                start=proposal.slot.start,
                now=now,
                provider=Provider(pk=proposal.slot.provider_id),
                booked_by=booked_by,
                staff=True,  # the proposal already applied the patient's rules
                kind=Appointment.Kind.INITIAL,
                plan=plan,
                session_number=proposal.session.number,
                confirm=proposal.session.number == 1,  # one confirmation for the course
            )
        except BookingError as error:
            raise SessionNotPlaced(
                f"Session {proposal.session.number} could not be booked: {error}",
                session_number=proposal.session.number,
            ) from error
    return plan


def _out_of_window_reason(
    window: protocols.PlannedSession | None, day: date, *, staff: bool, reason: str
) -> str:
    """ "" inside the session's window (or with no window); outside it, patients are refused
    and staff must give the reason that is then recorded."""
    if window is None or window.contains(day):
        return ""
    explanation = (
        f"Session {window.number} must be between {window.earliest:%b %-d} and "
        f"{window.latest:%b %-d, %Y}."
    )
    if not staff:
        raise OutsideWindow(explanation)
    if not reason.strip():
        raise OutsideWindow(f"{explanation} Give a reason to book it outside the window.")
    return reason.strip()


def _later_session_pushed_out(
    appointment: Appointment, new_day: date
) -> protocols.PlannedSession | None:
    """The first later booked session of the plan that would fall outside its re-planned
    window if this visit moved to `new_day`."""
    if appointment.plan_id is None or appointment.session_number is None:
        return None
    plan = appointment.plan
    fixed = _plan_fixed_dates(plan, exclude_id=appointment.pk)
    fixed[appointment.session_number] = new_day
    schedule = protocols.plan_sessions(
        plan.treatment.protocol.rules,
        sessions=plan.sessions,
        first_date=fixed.get(1, plan.first_date),
        fixed_dates=fixed,
    )
    return next(
        (
            s
            for s in schedule
            if s.number > appointment.session_number and s.fixed and not s.contains(s.fixed)
        ),
        None,
    )


@transaction.atomic
def reschedule_appointment(
    *,
    appointment: Appointment,
    start: datetime,
    now: datetime,
    actor=None,
    staff: bool = False,
    reason: str = "",
    provider: Provider | None = None,
) -> Appointment:
    """Move a visit. A plan session must stay inside its window unless staff give a reason."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("treatment", "location", "plan__treatment__protocol", "plan__location")
        .get(pk=appointment.pk)
    )
    if not appointment.is_active:
        raise BookingError("Only a booked visit can be moved.")
    _check_bookable(appointment.treatment, appointment.location, start)
    location = appointment.location
    window = session_window(appointment)
    new_day = _local_date(location, start)
    out_of_window = _out_of_window_reason(window, new_day, staff=staff, reason=reason)
    later = _later_session_pushed_out(appointment, new_day)
    if later is not None:
        explanation = (
            f"Moving this visit would put session {later.number}, booked on "
            f"{later.fixed:%b %-d}, outside its window ({later.earliest:%b %-d} to "
            f"{later.latest:%b %-d}). Move that session first."
        )
        if not staff:
            raise OutsideWindow(explanation)
        if not reason.strip():
            raise OutsideWindow(f"{explanation} Or give a reason to go ahead.")
        out_of_window = reason.strip()
    target_provider = provider or appointment.provider
    schedules = queries.load_schedules(
        treatment=appointment.treatment,
        location=location,
        first_day=new_day,
        last_day=new_day,
        provider_ids=[target_provider.pk],
        exclude_appointment_id=appointment.pk,
    )
    slot = _find_slot(start, schedules, target_provider.pk, staff=staff, now=now)
    freed_start = appointment.start
    before = {
        "start": appointment.start.isoformat(),
        "provider": appointment.provider_id,
        "room": appointment.room_id,
    }
    appointment.provider_id = slot.provider_id
    appointment.room_id = slot.room_id
    appointment.set_times(start)
    appointment.out_of_window_reason = out_of_window
    _save_holding_time(appointment)
    after = {"start": start.isoformat(), "provider": slot.provider_id, "room": slot.room_id}
    audit(
        actor=actor,
        action="rescheduled",
        appointment=appointment,
        reason=reason.strip(),
        changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
        now=now,
    )
    reminders.appointment_rescheduled(appointment, now=now)
    if before["start"] != after["start"] or before["provider"] != after["provider"]:
        waitlist.time_freed(appointment, start=freed_start, provider_id=before["provider"], now=now)
    return appointment


@transaction.atomic
def cancel_appointment(
    *, appointment: Appointment, now: datetime, actor=None, reason: str = ""
) -> Appointment:
    """Cancel a visit; inside the location's notice it counts as a late cancellation."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location")
        .get(pk=appointment.pk)
    )
    if not appointment.is_active:
        raise BookingError("This visit is not booked, so it cannot be cancelled.")
    before = appointment.status
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancellation_reason = reason.strip()
    appointment.late_cancellation = appointment.is_inside_notice(now)
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancellation_reason",
            "late_cancellation",
            "updated_at",
        ]
    )
    audit(
        actor=actor,
        action="cancelled_late" if appointment.late_cancellation else "cancelled",
        appointment=appointment,
        reason=reason.strip(),
        changes={"status": [before, Appointment.Status.CANCELLED]},
        now=now,
    )
    reminders.appointment_cancelled(appointment, now=now)
    waitlist.time_freed(
        appointment, start=appointment.start, provider_id=appointment.provider_id, now=now
    )
    return appointment


CHECK_IN_OPENS = timedelta(hours=1)

# Which status a visit may move to from which.
_TRANSITIONS = {
    Appointment.Status.CONFIRMED: {Appointment.Status.BOOKED},
    Appointment.Status.CHECKED_IN: {Appointment.Status.BOOKED, Appointment.Status.CONFIRMED},
    Appointment.Status.NO_SHOW: {Appointment.Status.BOOKED, Appointment.Status.CONFIRMED},
    Appointment.Status.COMPLETED: {
        Appointment.Status.BOOKED,
        Appointment.Status.CONFIRMED,
        Appointment.Status.CHECKED_IN,
    },
}


@transaction.atomic
def change_status(
    *, appointment: Appointment, status: str, now: datetime, actor=None, reason: str = ""
) -> Appointment:
    """Confirm, check in, mark a no-show or complete a visit."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    allowed_from = _TRANSITIONS.get(status)
    if allowed_from is None:
        raise BookingError("Use cancel_appointment to cancel.")
    # Nobody is done or missing before the visit starts; check-in opens an hour ahead.
    opens = appointment.start - (
        CHECK_IN_OPENS if status == Appointment.Status.CHECKED_IN else timedelta()
    )
    if status != Appointment.Status.CONFIRMED and now < opens:
        raise BookingError(
            f"This visit starts at {appointment.local_start:%-I:%M %p on %b %-d}; it cannot be "
            f"marked {Appointment.Status(status).label.lower()} yet."
        )
    if appointment.status not in allowed_from:
        raise BookingError(
            f"A visit that is {appointment.get_status_display().lower()} cannot be marked "
            f"{Appointment.Status(status).label.lower()}."
        )
    before = appointment.status
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    audit(
        actor=actor,
        action=status,
        appointment=appointment,
        reason=reason,
        changes={"status": [before, status]},
        now=now,
    )
    if status == Appointment.Status.COMPLETED:
        reminders.appointment_completed(appointment, now=now)
    return appointment


def overlap_problem(appointment: Appointment) -> str | None:
    """For forms that set times directly (the admin): a readable overlap message or None."""
    if not appointment.is_active or not appointment.provider_id or not appointment.room_id:
        return None
    others = Appointment.objects.active().exclude(pk=appointment.pk)
    provider_clash = (
        others.filter(provider_id=appointment.provider_id)
        .holding_provider_between(appointment.provider_start, appointment.held_until)
        .first()
    )
    if provider_clash:
        return f"{appointment.provider} is already busy then ({provider_clash})."
    room_clash = (
        others.filter(room_id=appointment.room_id)
        .holding_room_between(appointment.start, appointment.held_until)
        .first()
    )
    if room_clash:
        return f"{appointment.room} is already in use then ({room_clash})."
    return None


def record_admin_save(
    appointment: Appointment, *, actor, changed: list[str], now: datetime
) -> None:
    """Save an appointment edited in the Django admin, with its audit entry (before and
    after of each changed field)."""
    stored = Appointment.objects.filter(pk=appointment.pk).first() if appointment.pk else None
    appointment.set_times(appointment.start)
    with transaction.atomic():
        _save_holding_time(appointment)
        audit(
            actor=actor,
            action="edited_in_admin",
            appointment=appointment,
            changes={
                field: [
                    str(getattr(stored, field, "")) if stored else None,
                    str(getattr(appointment, field, "")),
                ]
                for field in changed
            },
            now=now,
        )
        if "start" in changed and appointment.is_active:
            reminders.appointment_edited(appointment, now=now)


@transaction.atomic
def start_plan(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    sessions: int,
    first_start: datetime,
    now: datetime,
    provider: Provider | None = None,
    booked_by=None,
    staff: bool = False,
) -> Appointment:
    """Start a plan and book only its first session; the patient books the rest one by one."""
    protocol = treatment.protocol_or_none
    if protocol is None:
        raise BookingError("This treatment is not a course of sessions.")
    if not protocol.min_sessions <= sessions <= protocol.max_sessions:
        raise BookingError(
            f"Choose between {protocol.min_sessions} and {protocol.max_sessions} sessions."
        )
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=treatment,
        location=location,
        provider=provider,
        sessions=sessions,
        first_date=_local_date(location, first_start),
        created_by=booked_by if getattr(booked_by, "is_authenticated", False) else None,
    )
    appointment = book_appointment(
        patient=patient,
        treatment=treatment,
        location=location,
        start=first_start,
        now=now,
        provider=provider,
        booked_by=booked_by,
        staff=staff,
        kind=Appointment.Kind.INITIAL,
        plan=plan,
        session_number=1,
    )
    if plan.provider_id is None:
        plan.provider_id = appointment.provider_id
        plan.save(update_fields=["provider"])
    return appointment


def next_session(plan: TreatmentPlan) -> protocols.PlannedSession | None:
    """The plan's first session (initial or maintenance) with nothing booked or done."""
    return next((s for s in plan_schedule(plan) if s.fixed is None), None)


@transaction.atomic
def book_plan_session(
    *,
    plan: TreatmentPlan,
    start: datetime,
    now: datetime,
    provider: Provider | None = None,
    booked_by=None,
    staff: bool = False,
    reason: str = "",
) -> Appointment:
    """Book the plan's next unbooked session; outside its window only staff, with a reason."""
    plan = (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("treatment__protocol", "location", "patient")
        .get(pk=plan.pk)
    )
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise BookingError("This course is no longer active.")
    session = next_session(plan)
    if session is None:
        raise BookingError("Every session of this course is already booked.")
    out_of_window = _out_of_window_reason(
        session if session.number > 1 else None,
        _local_date(plan.location, start),
        staff=staff,
        reason=reason,
    )
    kind = (
        Appointment.Kind.INITIAL
        if session.kind == protocols.INITIAL
        else Appointment.Kind.MAINTENANCE
    )
    return book_appointment(
        patient=plan.patient,
        treatment=plan.treatment,
        location=plan.location,
        start=start,
        now=now,
        provider=provider,
        booked_by=booked_by,
        staff=staff,
        kind=kind,
        plan=plan,
        session_number=session.number,
        out_of_window_reason=out_of_window,
    )


@transaction.atomic
def book_remaining_sessions(
    *, plan: TreatmentPlan, now: datetime, booked_by=None, staff: bool = True
) -> list[Appointment]:
    """Book every initial session the plan still lacks, each inside its window, keeping the
    aesthetician, weekday and time of the last booked session where free. All or nothing."""
    booked: list[Appointment] = []
    while (session := next_session(plan)) is not None and session.kind == protocols.INITIAL:
        slot = _best_slot_in_window(plan, session, now=now, staff=staff)
        if slot is None:
            raise SessionNotPlaced(
                f"Session {session.number} could not be placed: nothing is free between "
                f"{session.earliest:%b %-d} and {session.latest:%b %-d}.",
                session_number=session.number,
            )
        booked.append(
            book_plan_session(
                plan=plan,
                start=slot.start,
                now=now,
                provider=Provider(pk=slot.provider_id),
                booked_by=booked_by,
                staff=staff,
            )
        )
    if not booked:
        raise BookingError("Every session of this course is already booked.")
    return booked


def _best_slot_in_window(
    plan: TreatmentPlan, session: protocols.PlannedSession, *, now: datetime, staff: bool
) -> availability.Slot | None:
    schedules = queries.load_schedules(
        treatment=plan.treatment,
        location=plan.location,
        first_day=session.earliest,
        last_day=session.latest,
    )
    rules = rules_for(schedules, staff=staff, later_session=True)
    free = schedules.free_slots(
        session.earliest,
        session.latest,
        now=now,
        rules=rules,
    )
    last = (
        plan.appointments.filter(status__in=(*ACTIVE_STATUSES, Appointment.Status.COMPLETED))
        .order_by("-start")
        .first()
    )
    preference = _Preference(provider_id=plan.provider_id)
    if last is not None:
        local = plan.location.local(last.start)
        preference = _Preference(
            provider_id=plan.provider_id or last.provider_id,
            weekday=local.weekday(),
            wall_minutes=local.hour * 60 + local.minute,
        )
    return min(free, key=lambda s: preference.score(s, session.target, schedules.tz), default=None)


def check_screening(
    *, patient: Patient, treatment: Treatment, location: Location, now: datetime
) -> screening.ScreeningResult:
    """Refuse a patient's own booking unless today's answers clear them for the treatment:
    answers are asked again before every visit, "not now" offers a consultation instead, and
    "consultation first" waits until staff clear the patient. Provider-review flags pass."""
    rules = [rule.as_rule() for rule in treatment.screening_rules.all()]
    if not rules:
        return screening.evaluate([], [], today=location.local(now).date())
    today = location.local(now).date()
    start_of_today = datetime.combine(today, datetime.min.time(), tzinfo=location.zone)
    latest = queries.latest_screening_answers(patient, since=start_of_today)
    result = screening.evaluate(
        rules,
        [screening.Answer(code, a.yes, a.last_occurred) for code, a in latest.items()],
        today=today,
        cleared_for_protocol=patient.cleared_for_protocols,
    )
    if result.unanswered:
        raise ScreeningRequired(
            f"Please answer today's health questions for {treatment} before booking: they "
            "are asked again before every visit."
        )
    if result.outcome == screening.Outcome.NOT_NOW:
        raise ScreeningRequired(
            f"{treatment} is not safe for you right now. Please book a consultation instead, "
            "and we will plan it with you."
        )
    if result.needs_consultation:
        raise ScreeningRequired(
            f"Please book a consultation first; after it the clinic can clear you for {treatment}."
        )
    return result


def check_online_notice(appointment: Appointment, *, now: datetime) -> None:
    """Patients cannot cancel or move a visit online inside the location's notice."""
    location = appointment.location
    if appointment.is_inside_notice(now):
        phone = f" on {location.phone}" if location.phone else ""
        raise InsideNotice(
            f"Visits can be changed online up to {location.cancellation_notice_hours} hours "
            f"ahead. Please call {location}{phone}."
        )
