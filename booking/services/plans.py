"""A course of sessions: propose every session's time, book the whole course at once (all or
nothing), start it with its first session, book the next one, or the rest in one go."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from booking import availability, formats, queries, schedule
from booking.models import Appointment, Location, Patient, Provider, TreatmentPlan
from booking.services.appointments import admit, book_appointment, place, record_admission
from booking.services.audit import Actor, signed_in_or_none
from booking.services.errors import BookingError, SessionNotPlaced
from booking.services.slots import (
    Preference,
    check_bookable,
    find_slot,
    local_date,
    rules_for,
    with_hold,
)
from booking.services.windows import out_of_window_reason
from treatments import protocols, screening
from treatments.models import Protocol, Treatment


@dataclass(frozen=True)
class Proposal:
    """One session of a plan with the time proposed for it (None when nothing is free)."""

    session: protocols.PlannedSession
    slot: availability.Slot | None


def propose_plan(
    *,
    treatment: Treatment,
    location: Location,
    sessions: int,
    first_start: datetime | date,
    now: datetime,
    provider: Provider | None = None,
    staff: bool = False,
    exclude_draft: str | None = None,
) -> list[Proposal]:
    """Propose a time for every initial session: the same aesthetician, weekday and
    wall-clock time as the first where free, else the closest in the session's window.
    Maintenance sessions are listed with their windows; they are booked when recalled.
    `first_start` is an exact first visit (a datetime) or a day to find the first one in;
    `exclude_draft` is the booking draft asking, whose own held time counts as free."""
    protocol = treatment.protocol_or_none
    if protocol is None:
        raise BookingError(_("This treatment is not a course of sessions."))
    rules = protocol.rules
    if isinstance(first_start, datetime):
        check_bookable(treatment, location, first_start)
        first_day = local_date(location, first_start)
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
        now=now,
        exclude_draft=exclude_draft,
    )
    first_rules = rules_for(schedules, staff=staff)
    later_rules = rules_for(schedules, staff=staff, later_session=True)
    preference = Preference(provider_id=provider.pk if provider else None)
    proposals: list[Proposal] = []
    fixed: dict[int, date] = {}
    for number in range(1, sessions + 1):
        session = protocols.plan_sessions(
            rules, sessions=sessions, first_date=fixed.get(1, first_day), fixed_dates=fixed
        )[number - 1]
        slot: availability.Slot | None
        if number == 1 and isinstance(first_start, datetime):
            slot = find_slot(first_start, schedules, preference.provider_id, staff=staff, now=now)
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
            preference = Preference(
                provider_id=slot.provider_id,
                weekday=local.weekday(),
                wall_minutes=local.hour * 60 + local.minute,
            )
        schedules = with_hold(schedules, slot)

    final = protocols.plan_sessions(
        rules, sessions=sessions, first_date=fixed[1], fixed_dates=fixed
    )
    proposals += [Proposal(session=s, slot=None) for s in final if s.kind != protocols.INITIAL]
    return proposals


@transaction.atomic
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
    booked_by: Actor = None,
    staff: bool = False,
    screening_answers: Iterable[screening.Answer] | None = None,
    override_reason: str = "",
) -> TreatmentPlan:
    """Start a plan and book all its initial sessions, or none of them. The patient is
    admitted once for the course (screening, limits: see `book_appointment`)."""
    admission = admit(
        patient=patient,
        treatment=treatment,
        location=location,
        now=now,
        staff=staff,
        answers=screening_answers,
        override_reason=override_reason,
    )
    proposals = propose_plan(
        treatment=treatment,
        location=location,
        sessions=sessions,
        first_start=first_start,
        now=now,
        provider=provider,
        staff=staff,
    )
    initial: list[tuple[protocols.PlannedSession, availability.Slot]] = []
    for proposal in proposals:
        if proposal.session.kind != protocols.INITIAL:
            continue
        if proposal.slot is None:
            raise _not_placed(proposal.session)
        initial.append((proposal.session, proposal.slot))
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=treatment,
        location=location,
        provider_id=initial[0][1].provider_id,
        sessions=sessions,
        first_date=local_date(location, initial[0][1].start),
        created_by=signed_in_or_none(booked_by),
    )
    visits = []
    for session, slot in initial:
        try:
            visits.append(
                place(
                    patient=patient,
                    treatment=treatment,
                    location=location,
                    start=slot.start,
                    now=now,
                    provider=Provider(pk=slot.provider_id),
                    booked_by=booked_by,
                    staff=True,  # the proposal already applied the patient's rules
                    kind=Appointment.Kind.INITIAL,
                    plan=plan,
                    session_number=session.number,
                    confirm=session.number == 1,  # one confirmation for the course
                    online=not staff,
                )
            )
        except BookingError as error:
            raise SessionNotPlaced(
                _("Session %(number)s could not be booked: %(reason)s")
                % {"number": session.number, "reason": error},
                session_number=session.number,
            ) from error
    record_admission(admission, appointment=visits[0], actor=booked_by, now=now)
    return plan


def _not_placed(session: protocols.PlannedSession) -> SessionNotPlaced:
    return SessionNotPlaced(
        _(
            "Session %(number)s could not be placed: nothing is free between %(earliest)s "
            "and %(latest)s."
        )
        % {
            "number": session.number,
            "earliest": formats.abbr_month_day(session.earliest),
            "latest": formats.abbr_month_day(session.latest),
        },
        session_number=session.number,
    )


def _course_protocol(treatment: Treatment, sessions: int) -> Protocol:
    protocol = treatment.protocol_or_none
    if protocol is None:
        raise BookingError(_("This treatment is not a course of sessions."))
    problem = protocols.session_count_problem(protocol.rules, sessions)
    if problem:
        raise BookingError(problem)
    return protocol


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
    booked_by: Actor = None,
    staff: bool = False,
    screening_answers: Iterable[screening.Answer] | None = None,
    override_reason: str = "",
) -> Appointment:
    """Start a plan and book only its first session; the patient books the rest one by one."""
    _course_protocol(treatment, sessions)
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=treatment,
        location=location,
        provider=provider,
        sessions=sessions,
        first_date=local_date(location, first_start),
        created_by=signed_in_or_none(booked_by),
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
        screening_answers=screening_answers,
        override_reason=override_reason,
    )
    if plan.provider_id is None:
        plan.provider_id = appointment.provider_id
        plan.save(update_fields=["provider"])
    return appointment


@transaction.atomic
@transaction.atomic
def book_plan_session(
    *,
    plan: TreatmentPlan,
    start: datetime,
    now: datetime,
    provider: Provider | None = None,
    booked_by: Actor = None,
    staff: bool = False,
    reason: str = "",
    screening_answers: Iterable[screening.Answer] | None = None,
    override_reason: str = "",
) -> Appointment:
    """Book the plan's next unbooked session; outside its window only staff, with a reason.
    The patient is admitted as for any visit (see `book_appointment`)."""
    plan = (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("treatment__protocol", "location", "patient")
        .get(pk=plan.pk)
    )
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise BookingError(_("This course is no longer active."))
    session = schedule.next_session(plan)
    if session is None:
        raise BookingError(_("Every session of this course is already booked."))
    out_of_window = out_of_window_reason(
        session if session.number > 1 else None,
        local_date(plan.location, start),
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
        screening_answers=screening_answers,
        override_reason=override_reason,
    )


@transaction.atomic
def book_remaining_sessions(
    *, plan: TreatmentPlan, now: datetime, booked_by: Actor = None, staff: bool = True
) -> list[Appointment]:
    """Book every initial session the plan still lacks, each inside its window, keeping the
    aesthetician, weekday and time of the last booked session where free. All or nothing."""
    booked: list[Appointment] = []
    while (session := schedule.next_session(plan, initial_only=True)) is not None:
        slot = _best_slot_in_window(plan, session, now=now, staff=staff)
        if slot is None:
            raise _not_placed(session)
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
        raise BookingError(_("Every session of this course is already booked."))
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
    last = plan.appointments.placed().order_by("-start").first()
    preference = Preference(provider_id=plan.provider_id)
    if last is not None:
        local = plan.location.local(last.start)
        preference = Preference(
            provider_id=plan.provider_id or last.provider_id,
            weekday=local.weekday(),
            wall_minutes=local.hour * 60 + local.minute,
        )
    return min(free, key=lambda s: preference.score(s, session.target, schedules.tz), default=None)
