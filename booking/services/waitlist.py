"""The waitlist: who wants a freed time, in what order, and offering it to them.

The appointment services call ``time_freed`` inside the transaction that cancels or moves a
visit, so the offer is queued in the outbox with the change or not at all. Offers go first to
the patient whose plan session window closes soonest, then to whoever has waited longest.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from booking import events, schedule
from booking.models import Appointment, Patient, WaitlistEntry
from booking.services.audit import Actor, audit
from booking.services.errors import BookingError
from booking.services.slots import why_not_bookable


@dataclass(frozen=True)
class Match:
    """A waiting entry that fits a freed time, and the window that makes it urgent."""

    entry: WaitlistEntry
    window_closes: date | None


def matching(
    *,
    location_id: int,
    treatment_id: int,
    provider_id: int | None,
    start: datetime,
    tz: ZoneInfo,
    exclude_patient_id: int | None = None,
) -> list[Match]:
    """Waiting entries that fit a visit at ``start`` (aware), soonest-closing window first."""
    day = start.astimezone(tz).date()
    waiting = (
        WaitlistEntry.objects.waiting()
        .filter(
            location_id=location_id,
            treatment_id=treatment_id,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(provider__isnull=True) | Q(provider_id=provider_id))
        .select_related("patient", "provider", "treatment", "location")
    )
    if exclude_patient_id is not None:
        waiting = waiting.exclude(patient_id=exclude_patient_id)
    entries = list(waiting)
    plans = schedule.plans_with_visits().filter(
        patient_id__in=[e.patient_id for e in entries], treatment_id=treatment_id
    )
    closes: dict[int, date] = {}
    for plan in plans:
        session = schedule.next_session(plan, initial_only=True)
        if session is not None:
            current = closes.get(plan.patient_id)
            closes[plan.patient_id] = min(session.latest, current or session.latest)
    matches = [Match(entry=e, window_closes=closes.get(e.patient_id)) for e in entries]
    matches.sort(
        key=lambda m: (m.window_closes is None, m.window_closes or date.max, m.entry.created_at)
    )
    return matches


def offer(entry: WaitlistEntry, *, start: datetime, now: datetime, actor: Actor = None) -> None:
    """Offer ``start`` to a waiting patient (booking.events.waitlist_offered: the outbox picks
    the channels they agreed to) and mark the entry offered. Staff offers are audited, and
    only a real free time in the future can be offered (BookingError says why not); a time
    just freed by a cancellation (time_freed, no actor) is free by construction."""
    if actor is not None:
        refusal = why_not_bookable(
            treatment=entry.treatment,
            location=entry.location,
            provider_id=entry.provider_id,
            start=start,
            now=now,
            staff=True,
        )
        if refusal is not None:
            raise BookingError(f"That time cannot be offered: {refusal.message}")
    events.waitlist_offered.send(WaitlistEntry, entry=entry, start=start, now=now)
    if actor is not None:
        audit(
            actor=actor,
            action="waitlist_offered",
            patient=entry.patient,
            changes={"offered": [None, start.isoformat()]},
            now=now,
        )
    entry.status = WaitlistEntry.Status.OFFERED
    entry.offered_start = start
    entry.offered_at = now
    entry.save(update_fields=["status", "offered_start", "offered_at"])


def time_freed(
    appointment: Appointment, *, start: datetime, provider_id: int, now: datetime
) -> list[Match]:
    """A visit at ``start`` was cancelled or moved away: offer the time to the first match.
    Returns every match, so the desk can see who else wants it."""
    if start <= now:
        return []
    matches = matching(
        location_id=appointment.location_id,
        treatment_id=appointment.treatment_id,
        provider_id=provider_id,
        start=start,
        tz=appointment.location.zone,
        exclude_patient_id=appointment.patient_id,
    )
    if matches:
        offer(matches[0].entry, start=start, now=now)
    return matches


@transaction.atomic
def add_entry(
    *, entry: WaitlistEntry, patient: Patient, actor: Actor, now: datetime
) -> WaitlistEntry:
    """Put a patient on the waitlist (an unsaved entry from a form), audited."""
    if entry.latest_date < entry.earliest_date:
        raise BookingError("The last day must be on or after the first day.")
    entry.patient = patient
    entry.created_at = now
    entry.save()
    audit(
        actor=actor,
        action="waitlisted",
        patient=patient,
        changes={
            "waitlist": [None, f"{entry.treatment} {entry.earliest_date} - {entry.latest_date}"]
        },
        now=now,
    )
    return entry


STAFF_STATUSES = (
    WaitlistEntry.Status.BOOKED,
    WaitlistEntry.Status.REMOVED,
    WaitlistEntry.Status.WAITING,
)


@transaction.atomic
def set_entry_status(
    *, entry: WaitlistEntry, status: str, actor: Actor, now: datetime
) -> WaitlistEntry:
    """Mark an entry booked, removed or waiting again, audited."""
    if status not in STAFF_STATUSES:
        raise BookingError("Unknown waitlist action.")
    before = entry.status
    entry.status = status
    entry.save(update_fields=["status"])
    audit(
        actor=actor,
        action=f"waitlist_{status}",
        patient=entry.patient,
        changes={"status": [before, status]},
        now=now,
    )
    return entry
