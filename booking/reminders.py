"""The outbox: which messages a change queues, and the dispatcher that sends them.

Queueing happens inside the service's transaction (one row per message, unique `key`), so a
message exists exactly when the change that caused it committed. Dispatch claims due rows with
SELECT ... FOR UPDATE SKIP LOCKED and a lease; each message is then sent inside a transaction
that holds its row (and its appointment) locked, so no other dispatcher can send it and no
reschedule can slip in between the check and the send. The one duplicate no code can prevent:
a crash after the provider accepted a message and before our commit (see docs/reminders.md).
"""

import logging
import time as monotonic_clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from booking import ics, sms
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    Location,
    Notification,
    Patient,
    ReminderPolicy,
    TreatmentPlan,
)

log = logging.getLogger(__name__)

Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status

# Aftercare is medical detail, so it never goes by SMS.
CHANNELS = {kind: (Channel.EMAIL, Channel.SMS) for kind in Kind}
CHANNELS[Kind.AFTERCARE] = (Channel.EMAIL,)

# Messages about one appointment at one start time.
APPOINTMENT_KINDS = (Kind.CONFIRMATION, Kind.REMINDER_LONG, Kind.REMINDER_SHORT, Kind.RESCHEDULED)
PLAN_KINDS = (Kind.NEXT_SESSION, Kind.WINDOW_CLOSING, Kind.MAINTENANCE_RECALL)

BACKOFF_MINUTES = (1, 5, 30, 120)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
PLAN_MESSAGE_HOUR = time(10)  # plan messages go out at 10:00 local on their day

SUBJECTS = {
    Kind.CONFIRMATION: "Your visit is booked",
    Kind.REMINDER_LONG: "See you soon: your visit in two days",
    Kind.REMINDER_SHORT: "See you in a couple of hours",
    Kind.AFTERCARE: "Looking after your skin",
    Kind.NEXT_SESSION: "Time to book your next session",
    Kind.WINDOW_CLOSING: "Last week to book your next session",
    Kind.MAINTENANCE_RECALL: "Time for your maintenance session",
    Kind.WAITLIST_OFFER: "A time you wanted is free",
    Kind.CANCELLED: "Your visit is cancelled",
    Kind.RESCHEDULED: "Your visit has moved",
}


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


# --- queueing (called by booking.services inside their transaction) --------------------------


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


def _policy(location: Location) -> ReminderPolicy:
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
    policy = _policy(appointment.location)
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
    policy = _policy(appointment.location)
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
    policy = _policy(appointment.location)
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
    policy = _policy(appointment.location)
    due = now + timedelta(minutes=policy.aftercare_delay_minutes)
    _write(
        _appointment_rows(appointment, {Kind.AFTERCARE: due}, policy),
        patient=appointment.patient,
        appointment=appointment,
    )
    if appointment.plan_id:
        plan_changed(appointment.plan, now=now)


def _booked_sessions(plan: TreatmentPlan) -> set[int]:
    return set(
        plan.appointments.filter(
            Q(status__in=(*ACTIVE_STATUSES, Appointment.Status.COMPLETED)),
            session_number__isnull=False,
        ).values_list("session_number", flat=True)
    )


def plan_changed(plan: TreatmentPlan, *, now: datetime) -> None:
    """Queue "book your next session", "window closing" and maintenance recalls for the
    plan's unbooked sessions; cancel them for sessions that are booked now."""
    from booking.services import plan_schedule  # services import this module

    plan_rows = Notification.objects.filter(plan=plan, kind__in=PLAN_KINDS)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        _cancel_pending(plan_rows, "The plan is no longer active.")
        return
    booked = _booked_sessions(plan)
    _cancel_pending(plan_rows.filter(session_number__in=booked), "The session is booked.")
    policy = _policy(plan.location)
    tz = plan.location.zone
    rows: list[_Planned] = []
    for session in plan_schedule(plan):
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
    policy = _policy(location)
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


# --- dispatch --------------------------------------------------------------------------------


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.REMINDERS_LEASE_SECONDS)


def claim_due(*, now: datetime, batch: int, lease: timedelta) -> tuple[list[int], datetime]:
    """Take up to `batch` due rows for this dispatcher until `now + lease`; rows another
    dispatcher holds locked are skipped, not waited for."""
    lease_until = now + lease
    with transaction.atomic():
        ids = list(
            Notification.objects.due(now)
            .select_for_update(skip_locked=True)
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                status=Status.SENDING, claimed_until=lease_until
            )
    return ids, lease_until


def release(ids: list[int], lease_until: datetime) -> None:
    """Hand back rows this dispatcher claimed and will not get to."""
    Notification.objects.filter(
        pk__in=ids, status=Status.SENDING, claimed_until=lease_until
    ).update(status=Status.PENDING, claimed_until=None)


# Aftercare charted days late (or a dispatcher down that long) would only confuse.
AFTERCARE_TOO_LATE = timedelta(days=2)


def why_not_send(notification: Notification, now: datetime) -> str:
    """'' if the message should go out now, else why it is skipped."""
    patient = notification.patient
    if notification.channel == Channel.SMS and not (patient.sms_consent and patient.phone):
        return "No SMS consent or no phone number."
    if notification.channel == Channel.EMAIL and not (patient.email_consent and patient.email):
        return "No email consent or no email address."
    appointment = notification.appointment
    location = appointment.location if appointment else _location_of(notification)
    if location and not _policy(location).sends(notification.kind):
        return "This location does not send this kind of message."
    kind = notification.kind
    if kind in APPOINTMENT_KINDS:
        if appointment is None or not appointment.is_active:
            return "The visit is no longer booked."
        if appointment.start != notification.about_start:
            return "The visit moved."
        if appointment.start <= now:
            return "The visit has started."
    elif kind == Kind.CANCELLED and appointment.status != Appointment.Status.CANCELLED:
        return "The visit is not cancelled."
    elif kind == Kind.AFTERCARE:
        if appointment.status != Appointment.Status.COMPLETED:
            return "The visit was not completed."
        if now - appointment.end > AFTERCARE_TOO_LATE:
            return "Too long after the visit for aftercare to help."
    elif kind in PLAN_KINDS:
        plan = notification.plan
        if plan is None or plan.status != TreatmentPlan.Status.ACTIVE:
            return "The plan is no longer active."
        if notification.session_number in _booked_sessions(plan):
            return "The session is booked."
    return ""


def _location_of(notification: Notification) -> Location | None:
    if notification.plan_id:
        return notification.plan.location
    location_id = (notification.context or {}).get("location")
    return Location.objects.filter(pk=location_id).first() if location_id else None


def _local(instant: datetime | None, tz: ZoneInfo) -> datetime | None:
    return instant.astimezone(tz) if instant else None


def sms_context(notification: Notification) -> dict[str, str]:
    """Everything an SMS may say: first name, date, time and clinic name. Nothing medical."""
    location = (
        notification.appointment.location
        if notification.appointment_id
        else _location_of(notification)
    )
    tz = location.zone if location else UTC
    when = _local(notification.about_start, tz)
    if when is None and notification.context.get("latest"):
        day = date.fromisoformat(notification.context["latest"])
        return {
            "first_name": notification.patient.first_name,
            "date": f"{day:%a %b} {day.day}",
            "time": "",
            "clinic": location.name if location else "",
        }
    visits = 1
    appointment = notification.appointment
    if notification.kind == Kind.CONFIRMATION and appointment and appointment.plan_id:
        visits = len(_course_visits(appointment)) or 1
    return {
        "first_name": notification.patient.first_name,
        "date": f"{when:%a %b} {when.day}" if when else "",
        "time": when.strftime("%-I:%M %p") if when else "",
        "clinic": location.name if location else "",
        "visits": visits,
    }


def render_sms(notification: Notification) -> str:
    text = render_to_string(f"sms/{notification.kind}.txt", sms_context(notification))
    return " ".join(text.split())


def confirm_token(appointment: Appointment) -> str:
    return signing.dumps([appointment.pk, appointment.start.isoformat()], salt="visit-confirm")


def read_confirm_token(token: str) -> tuple[int, datetime]:
    """(appointment id, start) from a confirm link; raises signing.BadSignature."""
    pk, start = signing.loads(token, salt="visit-confirm", max_age=timedelta(days=30))
    return pk, datetime.fromisoformat(start)


def email_context(notification: Notification) -> dict:
    appointment = notification.appointment
    plan = notification.plan
    location = appointment.location if appointment else _location_of(notification)
    tz = location.zone if location else UTC
    context = {
        "patient": notification.patient,
        "first_name": notification.patient.first_name,
        "appointment": appointment,
        "plan": plan,
        "treatment": appointment.treatment if appointment else plan.treatment if plan else None,
        "location": location,
        # Naive wall-clock time: template filters would show an aware one in UTC.
        "start": _local(notification.about_start, tz).replace(tzinfo=None)
        if notification.about_start
        else None,
        "session_number": notification.session_number
        or (appointment and appointment.session_number),
        "site_url": settings.SITE_URL,
    }
    if notification.kind == Kind.CONFIRMATION and appointment and appointment.plan_id:
        context["course"] = [
            (visit.session_number, _local(visit.start, tz).replace(tzinfo=None))
            for visit in _course_visits(appointment)
        ]
    if notification.context.get("earliest"):
        context["earliest"] = date.fromisoformat(notification.context["earliest"])
        context["latest"] = date.fromisoformat(notification.context["latest"])
    if notification.kind == Kind.REMINDER_LONG and appointment:
        path = reverse("visit_confirm", args=[confirm_token(appointment)])
        context["confirm_url"] = settings.SITE_URL.rstrip("/") + path
    return context


def _course_visits(appointment: Appointment):
    """The booked sessions of the appointment's plan, in order (for a course confirmation)."""
    return list(
        Appointment.objects.active()
        .filter(plan_id=appointment.plan_id, session_number__isnull=False)
        .select_related("location", "treatment")
        .order_by("start")
    )


def build_email(notification: Notification, *, now: datetime, connection=None):
    context = email_context(notification)
    message = EmailMultiAlternatives(
        subject=SUBJECTS[notification.kind],
        body=render_to_string(f"emails/{notification.kind}.txt", context),
        to=[notification.patient.email],
        connection=connection,
    )
    message.attach_alternative(
        render_to_string(f"emails/{notification.kind}.html", context), "text/html"
    )
    if notification.kind in (Kind.CONFIRMATION, Kind.RESCHEDULED, Kind.CANCELLED):
        course = context.get("course") or []
        calendar = (
            ics.for_appointments(_course_visits(notification.appointment), stamp=now)
            if len(course) > 1
            else ics.for_appointment(notification.appointment, stamp=now)
        )
        message.attach("visit.ics", calendar, "text/calendar; charset=utf-8; method=PUBLISH")
    return message


class _Senders:
    """One email connection and one SMS backend per dispatch run."""

    def __init__(self):
        self.sms = sms.get_backend()
        self.mail = get_connection()

    def send(self, notification: Notification, now: datetime) -> None:
        if notification.channel == Channel.SMS:
            self.sms.send(
                sms.SMSMessage(
                    to=notification.patient.phone,
                    body=render_sms(notification),
                    reference=notification.key,
                )
            )
        else:
            build_email(notification, now=now, connection=self.mail).send()


def deliver(pk: int, *, lease_until: datetime, now: datetime, senders: _Senders) -> str:
    """Send one claimed message; returns its new status ('' if the claim was lost)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=pk, status=Status.SENDING, claimed_until=lease_until)
            .first()
        )
        if notification is None:
            return ""
        if notification.appointment_id:
            # Locked so a reschedule or cancel waits until this message is out (or skipped).
            notification.appointment = (
                Appointment.objects.select_for_update(no_key=True, of=("self",))
                .select_related("location", "treatment")
                .get(pk=notification.appointment_id)
            )
        reason = why_not_send(notification, now)
        if reason:
            notification.status, notification.last_error = Status.SKIPPED, reason
        else:
            try:
                senders.send(notification, now)
            except Exception as error:  # any provider failure is retried, then reported
                # Provider errors can quote the phone number: the log gets the class only; the
                # full text stays on the row, for the front desk.
                log.warning("Sending %s failed: %s", notification.key, type(error).__name__)
                _record_failure(notification, error, now)
            else:
                notification.status, notification.sent_at = Status.SENT, now
                notification.attempts += 1
        notification.claimed_until = None
        notification.save(
            update_fields=["status", "sent_at", "attempts", "last_error", "due_at", "claimed_until"]
        )
    return notification.status


def _record_failure(notification: Notification, error: Exception, now: datetime) -> None:
    notification.attempts += 1
    notification.last_error = f"{type(error).__name__}: {error}"[:2000]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.status = Status.FAILED
    else:
        notification.status = Status.PENDING
        notification.due_at = now + timedelta(minutes=BACKOFF_MINUTES[notification.attempts - 1])


def dispatch_due(
    *,
    batch: int | None = None,
    budget_seconds: float | None = None,
    clock: Callable[[], datetime] = timezone.now,
) -> dict[str, int]:
    """Claim and send due messages until none is due or the time budget is spent.
    Returns a count per resulting status."""
    batch = batch or settings.REMINDERS_BATCH_SIZE
    budget = settings.REMINDERS_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = monotonic_clock.monotonic() + budget
    lease = lease_duration()
    margin = lease / 5
    senders = _Senders()
    counts: dict[str, int] = {}
    while monotonic_clock.monotonic() < deadline:
        ids, lease_until = claim_due(now=clock(), batch=batch, lease=lease)
        if not ids:
            break
        for index, pk in enumerate(ids):
            now = clock()
            if now >= lease_until - margin or monotonic_clock.monotonic() >= deadline:
                release(ids[index:], lease_until)
                return counts
            status = deliver(pk, lease_until=lease_until, now=now, senders=senders)
            counts[status or "lost"] = counts.get(status or "lost", 0) + 1
    return counts


def retry(notification: Notification, *, now: datetime) -> bool:
    """Put a failed message back in the queue, due now. False if it was not failed."""
    return bool(
        Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.PENDING, due_at=now, attempts=0, claimed_until=None
        )
    )
