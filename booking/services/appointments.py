"""One visit: book, move, cancel, change its status, and the admin's direct edits.

Every function is one transaction and the only way the app writes appointments. The rules of
the patient's own door (screening, booking limit, online notice, course windows, one visit at
a time) hold here for the web flow and the API alike; staff (`staff=True`) work inside
working hours at any notice, and go past a screening refusal or a window only with a reason,
which is recorded. Changes are announced through booking.events inside the transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from booking import events, formats, queries
from booking.models import Appointment, Location, Patient, Provider, TreatmentPlan
from booking.services import waitlist
from booking.services.audit import Actor, Changes, audit, field_changes, signed_in_or_none
from booking.services.errors import BookingError, InsideNotice
from booking.services.limits import COURSE_SESSION, check_booking_limit
from booking.services.screening import (
    check_screening,
    check_staff_screening,
    needs_override,
    record_answers,
)
from booking.services.slots import (
    check_bookable,
    find_slot,
    local_date,
    patient_busy,
    save_holding_time,
)
from booking.services.windows import move_reason
from treatments import screening
from treatments.models import Treatment

CHECK_IN_OPENS = timedelta(hours=1)

# Which status a visit may move to from which.
_TRANSITIONS: dict[str, set[str]] = {
    Appointment.Status.CONFIRMED: {Appointment.Status.BOOKED},
    Appointment.Status.CHECKED_IN: {Appointment.Status.BOOKED, Appointment.Status.CONFIRMED},
    Appointment.Status.NO_SHOW: {Appointment.Status.BOOKED, Appointment.Status.CONFIRMED},
    Appointment.Status.COMPLETED: {
        Appointment.Status.BOOKED,
        Appointment.Status.CONFIRMED,
        Appointment.Status.CHECKED_IN,
    },
}


# --- who may book: the screening and the limits ---------------------------------------------


@dataclass(frozen=True)
class Admission:
    """What let a booking through, recorded with it once it is made."""

    result: screening.ScreeningResult
    staff: bool
    answers: tuple[screening.Answer, ...] | None
    override_reason: str


def admit(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    now: datetime,
    staff: bool,
    answers: Iterable[screening.Answer] | None = None,
    override_reason: str = "",
) -> Admission:
    """Refuse a booking the patient may not make. A patient's own: the hour's booking limit
    and today's screening (the answers sent with it, or those stored today). Staff: the
    latest answers as flags, and a refusal stands unless they give a reason."""
    if staff:
        result = check_staff_screening(
            patient=patient, treatment=treatment, location=location, now=now, reason=override_reason
        )
        return Admission(result, True, None, override_reason.strip())
    check_booking_limit(patient=patient, location=location, now=now)
    answers = tuple(answers) if answers is not None else None
    result = check_screening(
        patient=patient, treatment=treatment, location=location, now=now, answers=answers
    )
    return Admission(result, False, answers, "")


def record_admission(
    admission: Admission, *, appointment: Appointment, actor: Actor, now: datetime
) -> None:
    """Store the answers the booking came with; audit what staff booked past."""
    if admission.answers is not None:
        record_answers(
            patient=appointment.patient,
            treatment=appointment.treatment,
            answers=admission.answers,
            now=now,
        )
    if admission.staff and admission.result.outcome != screening.Outcome.CLEAR:
        audit(
            actor=actor,
            action="screening_override"
            if needs_override(admission.result)
            else "screening_flagged",
            appointment=appointment,
            reason=admission.override_reason,
            changes={
                "screening": [
                    admission.result.outcome.value,
                    [rule.code for rule in admission.result.triggered],
                ]
            },
            now=now,
        )


# --- booking -----------------------------------------------------------------------------------


def place(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    start: datetime,
    now: datetime,
    provider: Provider | None,
    booked_by: Actor,
    staff: bool,
    kind: str,
    plan: TreatmentPlan | None = None,
    session_number: int | None = None,
    out_of_window_reason: str = "",
    confirm: bool = True,
    online: bool = False,
) -> Appointment:
    """Find the slot, hold it, audit it and announce it: what every booking shares once the
    patient was admitted. Call inside a transaction. `online`: the patient booked it
    themselves (announced with it, so payments can ask for what their terms need)."""
    check_bookable(treatment, location, start)
    day = local_date(location, start)
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day,
        provider_ids=[provider.pk] if provider else None,
    )
    slot = find_slot(start, schedules, provider.pk if provider else None, staff=staff, now=now)
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
        booked_by=signed_in_or_none(booked_by),
    )
    appointment.set_times(start)
    save_holding_time(appointment)
    changes: Changes = {"start": [None, start.isoformat()]}
    if not confirm:
        changes[COURSE_SESSION] = True  # one booking with the course's first session
    audit(
        actor=booked_by,
        action="booked",
        appointment=appointment,
        reason=out_of_window_reason,
        changes=changes,
        now=now,
    )
    events.appointment_booked.send(
        Appointment, appointment=appointment, now=now, confirm=confirm, online=online
    )
    return appointment


@transaction.atomic
def book_appointment(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    start: datetime,
    now: datetime,
    provider: Provider | None = None,
    booked_by: Actor = None,
    staff: bool = False,
    kind: str = Appointment.Kind.SINGLE,
    plan: TreatmentPlan | None = None,
    session_number: int | None = None,
    out_of_window_reason: str = "",
    screening_answers: Iterable[screening.Answer] | None = None,
    override_reason: str = "",
) -> Appointment:
    """Book one visit. `provider=None` takes the first aesthetician free at that time.

    A patient's own booking (`staff=False`) is screened (`screening_answers` sent with it, or
    today's stored ones), limited per hour, and held to the online notice, horizon and slot
    grid. `staff=True` lifts notice, horizon and grid (working hours still apply) and books
    past a screening refusal only with an `override_reason`."""
    check_bookable(treatment, location, start)
    admission = admit(
        patient=patient,
        treatment=treatment,
        location=location,
        now=now,
        staff=staff,
        answers=screening_answers,
        override_reason=override_reason,
    )
    appointment = place(
        patient=patient,
        treatment=treatment,
        location=location,
        start=start,
        now=now,
        provider=provider,
        booked_by=booked_by,
        staff=staff,
        kind=kind,
        plan=plan,
        session_number=session_number,
        out_of_window_reason=out_of_window_reason,
        online=not staff,
    )
    record_admission(admission, appointment=appointment, actor=booked_by, now=now)
    return appointment


# --- changing a visit ---------------------------------------------------------------------------


def check_online_notice(appointment: Appointment, *, now: datetime) -> None:
    """Patients cannot cancel or move a visit online inside the location's notice."""
    location = appointment.location
    if appointment.is_inside_notice(now):
        hours = location.cancellation_notice_hours
        if location.phone:
            message = _(
                "Visits can be changed online up to %(hours)s hours ahead. "
                "Please call %(location)s on %(phone)s."
            ) % {"hours": hours, "location": location, "phone": location.phone}
        else:
            message = _(
                "Visits can be changed online up to %(hours)s hours ahead. "
                "Please call %(location)s."
            ) % {"hours": hours, "location": location}
        raise InsideNotice(message)


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related(
            "patient", "treatment", "location", "plan__treatment__protocol", "plan__location"
        )
        .get(pk=appointment.pk)
    )


@transaction.atomic
def reschedule_appointment(
    *,
    appointment: Appointment,
    start: datetime,
    now: datetime,
    actor: Actor = None,
    staff: bool = False,
    reason: str = "",
    provider: Provider | None = None,
) -> Appointment:
    """Move a visit. A patient moves their own only outside the online notice; a course
    session stays inside its window (and keeps later sessions inside theirs) unless staff
    give a reason."""
    appointment = _locked(appointment)
    if not appointment.is_active:
        raise BookingError(_("Only a booked visit can be moved."))
    if not staff:
        check_online_notice(appointment, now=now)
    check_bookable(appointment.treatment, appointment.location, start)
    location = appointment.location
    new_day = local_date(location, start)
    out_of_window = move_reason(appointment, new_day, staff=staff, reason=reason)
    target_provider = provider or appointment.provider
    schedules = queries.load_schedules(
        treatment=appointment.treatment,
        location=location,
        first_day=new_day,
        last_day=new_day,
        provider_ids=[target_provider.pk],
        exclude_appointment_id=appointment.pk,
    )
    slot = find_slot(start, schedules, target_provider.pk, staff=staff, now=now)
    freed_start = appointment.start
    before: dict[str, Any] = {
        "start": appointment.start.isoformat(),
        "provider": appointment.provider_id,
        "room": appointment.room_id,
    }
    appointment.provider_id = slot.provider_id
    appointment.room_id = slot.room_id
    appointment.set_times(start)
    appointment.out_of_window_reason = out_of_window
    appointment.sequence += 1
    save_holding_time(appointment)
    after = {"start": start.isoformat(), "provider": slot.provider_id, "room": slot.room_id}
    audit(
        actor=actor,
        action="rescheduled",
        appointment=appointment,
        reason=reason.strip(),
        changes=field_changes(before, after),
        now=now,
    )
    events.appointment_rescheduled.send(
        Appointment,
        appointment=appointment,
        now=now,
        previous_start=freed_start,
        previous_provider_id=before["provider"],
    )
    if before["start"] != after["start"] or before["provider"] != after["provider"]:
        waitlist.time_freed(appointment, start=freed_start, provider_id=before["provider"], now=now)
    return appointment


@transaction.atomic
def cancel_appointment(
    *,
    appointment: Appointment,
    now: datetime,
    actor: Actor = None,
    reason: str = "",
    staff: bool = False,
) -> Appointment:
    """Cancel a visit; inside the location's notice it counts as a late cancellation, which
    only staff can make (a patient is asked to call)."""
    appointment = _locked(appointment)
    if not appointment.is_active:
        raise BookingError(_("This visit is not booked, so it cannot be cancelled."))
    if not staff:
        check_online_notice(appointment, now=now)
    before = appointment.status
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancellation_reason = reason.strip()
    appointment.late_cancellation = appointment.is_inside_notice(now)
    appointment.sequence += 1
    appointment.save(
        update_fields=[
            "sequence",
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
    events.appointment_cancelled.send(Appointment, appointment=appointment, now=now)
    waitlist.time_freed(
        appointment, start=appointment.start, provider_id=appointment.provider_id, now=now
    )
    return appointment


@transaction.atomic
def change_status(
    *, appointment: Appointment, status: str, now: datetime, actor: Actor = None, reason: str = ""
) -> Appointment:
    """Confirm, check in, mark a no-show or complete a visit. `reason` is recorded with the
    change; the apps listening to `appointment_completed` may require one (a visit completed
    without a valid consent)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    allowed_from = _TRANSITIONS.get(status)
    if allowed_from is None:
        raise BookingError("Use cancel_appointment to cancel.")
    # Nobody is done or missing before the visit starts; check-in opens an hour ahead, and a
    # patient checked in early may be treated (and the visit completed) early.
    early = status == Appointment.Status.CHECKED_IN or (
        status == Appointment.Status.COMPLETED
        and appointment.status == Appointment.Status.CHECKED_IN
    )
    opens = appointment.start - (CHECK_IN_OPENS if early else timedelta())
    if status != Appointment.Status.CONFIRMED and now < opens:
        local = appointment.local_start
        raise BookingError(
            _("This visit starts at %(time)s on %(day)s; it cannot be marked %(status)s yet.")
            % {
                "time": formats.clock(local),
                "day": formats.abbr_month_day(local),
                "status": Appointment.Status(status).label.lower(),
            }
        )
    if appointment.status not in allowed_from:
        raise BookingError(
            _("A visit that is %(now)s cannot be marked %(status)s.")
            % {
                "now": appointment.get_status_display().lower(),
                "status": Appointment.Status(status).label.lower(),
            }
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
        events.appointment_completed.send(
            Appointment, appointment=appointment, now=now, actor=actor, reason=reason
        )
    return appointment


CONFIRMED_VIA = ("sms", "email", "desk")


@transaction.atomic
def confirm_appointment(
    *, appointment: Appointment, via: str, now: datetime, actor: Actor = None, reason: str = ""
) -> Appointment:
    """The patient says they are coming (an SMS reply, the reminder email's link, a call to
    the desk): a booked visit becomes confirmed, with when and how, audited. Confirming a
    visit that is already confirmed changes nothing."""
    if via not in CONFIRMED_VIA:
        raise ValueError(f"Not a way to confirm: {via!r}")
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CONFIRMED:
        return appointment
    appointment = change_status(
        appointment=appointment,
        status=Appointment.Status.CONFIRMED,
        now=now,
        actor=actor,
        reason=reason,
    )
    appointment.confirmed_at = now
    appointment.confirmed_via = via
    appointment.save(update_fields=["confirmed_at", "confirmed_via", "updated_at"])
    return appointment


# --- the admin ----------------------------------------------------------------------------------


def overlap_problem(appointment: Appointment) -> str | None:
    """For forms that set times directly (the admin): a readable overlap message or None,
    for the aesthetician, the room and the patient alike."""
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
    busy = patient_busy(appointment) if appointment.patient_id else None
    return busy.message if busy else None


# What a visit added in the Django admin may start as: every later status goes through
# change_status, whose listeners (the consent check on completion, reminders) the admin skips.
ADMIN_NEW_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def record_admin_save(
    appointment: Appointment,
    *,
    actor: Actor,
    changed: list[str],
    now: datetime,
    override_reason: str = "",
) -> None:
    """Save an appointment edited in the Django admin, with its audit entry (before and
    after of each changed field). A new visit is screened as any staff booking: past a
    refusal only with `override_reason`."""
    stored = Appointment.objects.filter(pk=appointment.pk).first() if appointment.pk else None
    if stored is None and appointment.status not in ADMIN_NEW_STATUSES:
        raise BookingError(
            "A new visit starts booked or confirmed; check it in, complete it or mark it a "
            "no-show on the staff pages."
        )
    appointment.set_times(appointment.start)
    with transaction.atomic():
        admission = None
        if stored is None and appointment.is_active:
            admission = admit(
                patient=appointment.patient,
                treatment=appointment.treatment,
                location=appointment.location,
                now=now,
                staff=True,
                override_reason=override_reason,
            )
        if stored is not None and {"start", "location", "room"} & set(changed):
            appointment.sequence = stored.sequence + 1  # calendars re-read the moved visit
        save_holding_time(appointment)
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
        if admission is not None:
            record_admission(admission, appointment=appointment, actor=actor, now=now)
        if "start" in changed and appointment.is_active:
            events.appointment_edited.send(
                Appointment, appointment=appointment, now=now, created=stored is None
            )
