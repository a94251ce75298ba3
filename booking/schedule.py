"""A course's session windows: the one place that turns a plan and its visits into sessions.

Every reader of "which session is next, and when may it be" asks here: the services (booking
a session, moving one without pushing a later one out of its window), the waitlist (whose
window closes first), the outbox (which reminders to queue) and the pages. The arithmetic is
the pure `treatments.protocols.plan_sessions`; this module only feeds it the dates that are
fixed, on the plan's location's calendar.

Every function reads the plan's visits through ``plan.appointments.all()``, so a caller that
lists many plans prefetches them (`plans_with_visits`) and pays a fixed number of queries.
"""

from datetime import date

from django.db.models import Prefetch, QuerySet

from booking.models import PLACED_STATUSES, Appointment, TreatmentPlan
from treatments import protocols

__all__ = [
    "later_session_pushed_out",
    "next_session",
    "placed_dates",
    "plans_with_visits",
    "session_window",
    "sessions",
]


def placed_dates(plan: TreatmentPlan, *, exclude_id: int | None = None) -> dict[int, date]:
    """Session number -> local date, for the plan's sessions that are booked or done."""
    return {
        visit.session_number: plan.location.local(visit.start).date()
        for visit in plan.appointments.all()
        if visit.session_number is not None
        and visit.status in PLACED_STATUSES
        and visit.pk != exclude_id
    }


def sessions(
    plan: TreatmentPlan,
    *,
    exclude_id: int | None = None,
    moving: tuple[int, date] | None = None,
) -> tuple[protocols.PlannedSession, ...]:
    """The plan's sessions with their windows, from the dates booked or done so far.

    `exclude_id` leaves one visit out (the one being judged); `moving` puts session n on
    another day (a proposed move), to see what that does to the later windows."""
    fixed = placed_dates(plan, exclude_id=exclude_id)
    if moving is not None:
        fixed[moving[0]] = moving[1]
    return protocols.plan_sessions(
        plan.treatment.protocol.rules,
        sessions=plan.sessions,
        first_date=fixed.get(1, plan.first_date),
        fixed_dates=fixed,
    )


def next_session(
    plan: TreatmentPlan, *, initial_only: bool = False
) -> protocols.PlannedSession | None:
    """The plan's first session with nothing booked or done (initial sessions only, if
    asked), or None when every one is placed."""
    return next(
        (
            s
            for s in sessions(plan)
            if s.fixed is None and (not initial_only or s.kind == protocols.INITIAL)
        ),
        None,
    )


def session_window(appointment: Appointment) -> protocols.PlannedSession | None:
    """The window the appointment's plan session must fall in, ignoring its own date. The
    first session sets the plan's start, so it has no window of its own."""
    if appointment.plan_id is None or appointment.session_number in (None, 1):
        return None
    plan = appointment.plan
    if plan is None:
        return None
    schedule = sessions(plan, exclude_id=appointment.pk)
    return next((s for s in schedule if s.number == appointment.session_number), None)


def later_session_pushed_out(
    appointment: Appointment, new_day: date
) -> protocols.PlannedSession | None:
    """The first later placed session of the plan that would fall outside its re-planned
    window if this visit moved to local `new_day`."""
    if appointment.plan_id is None or appointment.session_number is None:
        return None
    plan = appointment.plan
    if plan is None:
        return None
    session_number = appointment.session_number
    schedule = sessions(
        plan,
        exclude_id=appointment.pk,
        moving=(appointment.session_number, new_day),
    )
    return next(
        (s for s in schedule if s.number > session_number and s.fixed and not s.contains(s.fixed)),
        None,
    )


def plans_with_visits() -> QuerySet[TreatmentPlan]:
    """Active plans with what the functions above need, in a fixed number of queries."""
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
