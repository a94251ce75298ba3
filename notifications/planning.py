"""Which messages a booking change queues, and when they fall due.

The receivers in `notifications.receivers` call these inside the transaction of the change
that booking announced (booking.events), one row per message with a unique `key`, so a
message exists exactly when the change that caused it committed. The due-time arithmetic at
the top is pure: aware datetimes in, UTC out, whole days counted on the location's wall clock.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking import schedule
from booking.models import Appointment, Location, Patient, TreatmentPlan
from notifications.models import Notification, ReminderPolicy

Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status

# Aftercare is medical detail, so it never goes by SMS.
CHANNELS = {kind: (Channel.EMAIL, Channel.SMS) for kind in Kind}
CHANNELS[Kind.AFTERCARE] = (Channel.EMAIL,)
# A receipt names what was paid for: email only.
CHANNELS[Kind.RECEIPT] = (Channel.EMAIL,)

# Messages about one appointment at one start time.
APPOINTMENT_KINDS = (Kind.CONFIRMATION, Kind.REMINDER_LONG, Kind.REMINDER_SHORT, Kind.RESCHEDULED)
PLAN_KINDS = (Kind.NEXT_SESSION, Kind.WINDOW_CLOSING, Kind.MAINTENANCE_RECALL)

BACKOFF_MINUTES = (1, 5, 30, 120)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
PLAN_MESSAGE_HOUR = time(10)  # plan messages go out at 10:00 local on their day


# --- due times (pure) -----------------------------------------------------------------------


def outside_quiet_hours(
    due: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time
) -> datetime:
    """The first instant at or after `due` that is not inside the quiet hours
    [quiet_start, quiet_end) on the wall clock of `tz` (the window may run past midnight).
    A deferred time is quiet_end on the local day it falls; returned in UTC."""
    local = due.astimezone(tz)
    clock = local.time()
    if quiet_start == quiet_end:
        return due.astimezone(UTC)
    if quiet_start > quiet_end:  # e.g. 21:00-08:00
        if clock >= quiet_start:
            day = local.date() + timedelta(days=1)
        elif clock < quiet_end:
            day = local.date()
        else:
            return due.astimezone(UTC)
    elif quiet_start <= clock < quiet_end:
        day = local.date()
    else:
        return due.astimezone(UTC)
    return _at_local(day, quiet_end, tz)


def _at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """`day` at wall-clock `clock` in `tz`, as UTC. A time skipped by a DST jump is read
    with the offset before the jump (fold=0), i.e. moved later by the jump's length."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def before(start: datetime, hours: int, tz: ZoneInfo) -> datetime:
    """`hours` before `start`: whole days on the wall clock of `tz`, the rest in elapsed
    hours. So a 48-hour reminder for Monday 10:00 comes Saturday 10:00 local, even when the
    clocks change on the Sunday between (then it is 47 or 49 real hours). UTC out."""
    days, rest = divmod(hours, 24)
    local = start.astimezone(tz)
    same_time = _at_local(local.date() - timedelta(days=days), local.time(), tz)
    return same_time - timedelta(hours=rest)


def appointment_due_times(
    start: datetime, policy: ReminderPolicy, tz: ZoneInfo, *, now: datetime
) -> dict[str, datetime]:
    """Due instants (UTC) of the reminders for a visit at `start`; reminders whose time has
    passed are left out."""
    due = {
        Kind.REMINDER_LONG: before(start, policy.long_reminder_hours, tz),
        Kind.REMINDER_SHORT: before(start, policy.short_reminder_hours, tz),
    }
    return {kind: at for kind, at in due.items() if at > now}


# --- queueing (called by notifications.receivers inside the change's transaction) ----------


@dataclass(frozen=True)
class _Planned:
    key: str
    kind: str
    channel: str
    due_at: datetime
    about_start: datetime | None = None
    session_number: int | None = None
    context: dict | None = None


def appointment_key(appointment: Appointment, kind: str, channel: str, start: datetime) -> str:
    return f"appt:{appointment.pk}:{kind}:{channel}:{start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def plan_key(plan: TreatmentPlan, session_number: int, kind: str, channel: str) -> str:
    return f"plan:{plan.pk}:session:{session_number}:{kind}:{channel}"


def policy_for(location: Location) -> ReminderPolicy:
    return ReminderPolicy.for_location(location)


def _sms_due(due: datetime, kind: str, policy: ReminderPolicy, tz: ZoneInfo) -> datetime:
    if kind == Kind.REMINDER_SHORT:
        return due
    return outside_quiet_hours(due, tz, policy.quiet_hours_start, policy.quiet_hours_end)


def _expand(planned: Iterable[tuple[str, str, datetime]], make_key, policy, tz, **extra):
    """One _Planned per channel of each (kind, due) pair, SMS moved out of quiet hours."""
    rows = []
    for kind, due, about in planned:
        for channel in CHANNELS[kind]:
            at = _sms_due(due, kind, policy, tz) if channel == Channel.SMS else due
            rows.append(
                _Planned(
                    key=make_key(kind, channel),
                    kind=kind,
                    channel=channel,
                    due_at=at,
                    about_start=about,
                    **extra,
                )
            )
    return rows


def _write(rows: list[_Planned], *, patient: Patient, appointment=None, plan=None) -> None:
    """Insert rows whose key is new; revive cancelled ones with the same key (a visit moved
    back to a time it had); leave sent, failed and pending ones alone."""
    if not rows:
        return
    Notification.objects.bulk_create(
        [
            Notification(
                key=row.key,
                kind=row.kind,
                channel=row.channel,
                patient=patient,
                appointment=appointment,
                plan=plan,
                session_number=row.session_number,
                about_start=row.about_start,
                context=row.context or {},
                due_at=row.due_at,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    for row in rows:
        Notification.objects.filter(
            key=row.key, status__in=(Status.CANCELLED, Status.PENDING)
        ).exclude(status=Status.PENDING, due_at=row.due_at).update(
            status=Status.PENDING, due_at=row.due_at, attempts=0, last_error=""
        )


def _cancel_pending(queryset, reason: str) -> int:
    return queryset.filter(status=Status.PENDING).update(status=Status.CANCELLED, last_error=reason)


def _appointment_rows(appointment: Appointment, kinds_due: dict, policy) -> list[_Planned]:
    start = appointment.start
    return _expand(
        ((kind, due, start) for kind, due in kinds_due.items()),
        lambda kind, channel: appointment_key(appointment, kind, channel, start),
        policy,
        appointment.location.zone,
    )


def appointment_booked(appointment: Appointment, *, now: datetime, confirm: bool = True) -> None:
    """Queue the confirmation and the reminders of a new visit. A course booked at once is
    confirmed once, by its first session's message (`confirm=False` for the others)."""
    policy = policy_for(appointment.location)
    due = {
        **({Kind.CONFIRMATION: now} if confirm else {}),
        **appointment_due_times(appointment.start, policy, appointment.location.zone, now=now),
    }
    _write(
        _appointment_rows(appointment, due, policy),
        patient=appointment.patient,
        appointment=appointment,
    )
    if appointment.plan_id:
        plan_changed(appointment.plan, now=now)


def appointment_rescheduled(appointment: Appointment, *, now: datetime) -> None:
    """Cancel what was queued for the old time; queue a notice and reminders for the new."""
    _cancel_pending(
        appointment.notifications.filter(kind__in=APPOINTMENT_KINDS).exclude(
            about_start=appointment.start
        ),
        "The visit moved.",
    )
    policy = policy_for(appointment.location)
    due = {
        Kind.RESCHEDULED: now,
        **appointment_due_times(appointment.start, policy, appointment.location.zone, now=now),
    }
    _write(
        _appointment_rows(appointment, due, policy),
        patient=appointment.patient,
        appointment=appointment,
    )
    if appointment.plan_id:
        plan_changed(appointment.plan, now=now)


def appointment_edited(appointment: Appointment, *, now: datetime) -> None:
    """Staff set the time directly (the admin): a new visit or a moved one."""
    if appointment.notifications.exists():
        appointment_rescheduled(appointment, now=now)
    else:
        appointment_booked(appointment, now=now)


def appointment_cancelled(appointment: Appointment, *, now: datetime) -> None:
    _cancel_pending(appointment.notifications.all(), "The visit was cancelled.")
    policy = policy_for(appointment.location)
    _write(
        _appointment_rows(appointment, {Kind.CANCELLED: now}, policy),
        patient=appointment.patient,
        appointment=appointment,
    )
    if appointment.plan_id:
        plan_changed(appointment.plan, now=now)


def appointment_completed(appointment: Appointment, *, now: datetime) -> None:
    _cancel_pending(
        appointment.notifications.filter(kind__in=APPOINTMENT_KINDS), "The visit is over."
    )
    policy = policy_for(appointment.location)
    due = now + timedelta(minutes=policy.aftercare_delay_minutes)
    _write(
        _appointment_rows(appointment, {Kind.AFTERCARE: due}, policy),
        patient=appointment.patient,
        appointment=appointment,
    )
    if appointment.plan_id:
        plan_changed(appointment.plan, now=now)


def plan_changed(plan: TreatmentPlan, *, now: datetime) -> None:
    """Queue "book your next session", "window closing" and maintenance recalls for the
    plan's unbooked sessions; cancel them for sessions that are booked now."""
    plan_rows = Notification.objects.filter(plan=plan, kind__in=PLAN_KINDS)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        _cancel_pending(plan_rows, "The plan is no longer active.")
        return
    booked = set(schedule.placed_dates(plan))
    _cancel_pending(plan_rows.filter(session_number__in=booked), "The session is booked.")
    policy = policy_for(plan.location)
    tz = plan.location.zone
    rows: list[_Planned] = []
    for session in schedule.sessions(plan):
        if session.number in booked:
            continue
        today = now.astimezone(tz).date()
        if session.latest < today:
            continue
        opens = max(_at_local(session.earliest, PLAN_MESSAGE_HOUR, tz), now)
        first = Kind.NEXT_SESSION if session.kind == "initial" else Kind.MAINTENANCE_RECALL
        planned = [(first, opens)]
        closing_day = session.latest - timedelta(days=policy.window_closing_days)
        closing = _at_local(closing_day, PLAN_MESSAGE_HOUR, tz)
        if closing > opens:
            planned.append((Kind.WINDOW_CLOSING, closing))
        context = {
            "earliest": session.earliest.isoformat(),
            "latest": session.latest.isoformat(),
        }
        rows += _expand(
            ((kind, due, None) for kind, due in planned),
            lambda kind, channel, n=session.number: plan_key(plan, n, kind, channel),
            policy,
            tz,
            session_number=session.number,
            context=context,
        )
    _write(rows, patient=plan.patient, plan=plan)


def waitlist_offer(*, patient: Patient, location: Location, start: datetime, now: datetime) -> None:
    """Tell a waiting patient that a time they wanted at `location` is free."""
    policy = policy_for(location)
    when = start.astimezone(UTC)
    _write(
        _expand(
            [(Kind.WAITLIST_OFFER, now, start)],
            lambda kind, channel: (
                f"waitlist:{patient.pk}:{location.pk}:{when:%Y-%m-%dT%H:%MZ}:{channel}"
            ),
            policy,
            location.zone,
            context={"location": location.pk},
        ),
        patient=patient,
    )


def receipt(
    *, key: str, patient: Patient, location: Location, context: dict, now: datetime
) -> None:
    """Queue an email receipt, due now. `context` is the receipt as it stands (amount,
    currency, what for, when, method, card's last 4; see payments.receipts), so the message
    says what happened even if the payment changes later. `key` names the payment or refund
    (and, for a copy the desk sends again, the instant it was asked for)."""
    _write(
        [
            _Planned(
                key=key,
                kind=Kind.RECEIPT,
                channel=channel,
                due_at=now,
                context={**context, "location": location.pk},
            )
            for channel in CHANNELS[Kind.RECEIPT]
        ],
        patient=patient,
    )
