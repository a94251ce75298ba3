"""The waitlist: who wants a freed time, in what order, and offering it to them.

booking.services calls ``time_freed`` inside the transaction that cancels or moves a visit, so
the offer is queued in the outbox with the change or not at all. Offers go first to the patient
whose plan session window closes soonest, then to whoever has waited longest.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, Q

from booking import reminders
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    TreatmentPlan,
    WaitlistEntry,
)
from treatments import protocols


@dataclass(frozen=True)
class Match:
    """A waiting entry that fits a freed time, and the window that makes it urgent."""

    entry: WaitlistEntry
    window_closes: date | None


def next_unbooked_session(plan: TreatmentPlan) -> protocols.PlannedSession | None:
    """The plan's first initial session with nothing booked or done, with its window.

    Reads ``plan.appointments.all()`` so callers can prefetch the plan's visits."""
    fixed = {
        a.session_number: plan.location.local(a.start).date()
        for a in plan.appointments.all()
        if a.session_number is not None
        and a.status in (*ACTIVE_STATUSES, Appointment.Status.COMPLETED)
    }
    schedule = protocols.plan_sessions(
        plan.treatment.protocol.rules,
        sessions=plan.sessions,
        first_date=fixed.get(1, plan.first_date),
        fixed_dates=fixed,
    )
    return next(
        (s for s in schedule if s.kind == protocols.INITIAL and s.fixed is None),
        None,
    )


def plans_with_visits():
    """Active plans with what next_unbooked_session needs, in a fixed number of queries."""
    return (
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE)
        .select_related("patient", "treatment__protocol", "location", "provider")
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.only(
                    "id", "plan_id", "session_number", "status", "start"
                ),
            )
        )
    )


def matching(
    *,
    location_id: int,
    treatment_id: int,
    provider_id: int | None,
    start: datetime,
    tz,
    exclude_patient_id: int | None = None,
) -> list[Match]:
    """Waiting entries that fit a visit at ``start`` (aware), soonest-closing window first."""
    day = start.astimezone(tz).date()
    entries = (
        WaitlistEntry.objects.waiting()
        .filter(
            location_id=location_id,
            treatment_id=treatment_id,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(provider__isnull=True) | Q(provider_id=provider_id))
        .exclude(patient_id=exclude_patient_id)
        .select_related("patient", "provider", "treatment", "location")
    )
    entries = list(entries)
    plans = plans_with_visits().filter(
        patient_id__in=[e.patient_id for e in entries], treatment_id=treatment_id
    )
    closes: dict[int, date] = {}
    for plan in plans:
        session = next_unbooked_session(plan)
        if session is not None:
            current = closes.get(plan.patient_id)
            closes[plan.patient_id] = min(session.latest, current or session.latest)
    matches = [Match(entry=e, window_closes=closes.get(e.patient_id)) for e in entries]
    matches.sort(
        key=lambda m: (m.window_closes is None, m.window_closes or date.max, m.entry.created_at)
    )
    return matches


def offer(entry: WaitlistEntry, *, start: datetime, now: datetime) -> None:
    """Queue a waitlist offer of ``start`` through the reminders outbox (which picks the
    channels the patient agreed to), and mark the entry offered."""
    reminders.waitlist_offer(patient=entry.patient, location=entry.location, start=start, now=now)
    entry.status = WaitlistEntry.Status.OFFERED
    entry.offered_start = start
    entry.offered_at = now
    entry.save(update_fields=["status", "offered_start", "offered_at"])


def time_freed(appointment: Appointment, *, start: datetime, provider_id: int, now: datetime):
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
