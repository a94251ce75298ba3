"""The dispatcher: claims due outbox rows and sends them.

Dispatch claims due rows with SELECT ... FOR UPDATE SKIP LOCKED and a lease; the claimed rows
are then sent a chunk at a time, each chunk inside one transaction that holds its rows (and
their appointments) locked, so no other dispatcher can send them and no reschedule can slip in
between the check and the send. Each message is still checked on its own, under that lock. A
chunk costs a handful of queries and one commit, however many messages it holds. The one
duplicate no code can prevent: a crash after the provider accepted a message and before our
commit (see docs/reminders.md).
"""

import logging
import time as monotonic_clock
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from booking import schedule, services
from booking.models import Appointment, Location, TreatmentPlan
from notifications import sms
from notifications.models import Notification, ReminderPolicy
from notifications.planning import (
    APPOINTMENT_KINDS,
    BACKOFF_MINUTES,
    MAX_ATTEMPTS,
    PLAN_KINDS,
    Channel,
    Kind,
    Status,
    policy_for,
)
from notifications.rendering import build_email, location_of, remember_location, render_sms

log = logging.getLogger(__name__)


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


def why_not_send(
    notification: Notification,
    now: datetime,
    policy: Callable[[Location], ReminderPolicy] = policy_for,
) -> str:
    """'' if the message should go out now, else why it is skipped."""
    problem = notification.consent_problem()
    if problem:
        return problem
    appointment = notification.appointment
    location = appointment.location if appointment else location_of(notification)
    if location and not policy(location).sends(notification.kind):
        return gettext_noop("This location does not send this kind of message.")
    kind = notification.kind
    if kind in APPOINTMENT_KINDS:
        if appointment is None or not appointment.is_active:
            return gettext_noop("The visit is no longer booked.")
        if appointment.start != notification.about_start:
            return gettext_noop("The visit moved.")
        if appointment.start <= now:
            return gettext_noop("The visit has started.")
    elif kind == Kind.CANCELLED and appointment.status != Appointment.Status.CANCELLED:
        return gettext_noop("The visit is not cancelled.")
    elif kind == Kind.AFTERCARE:
        if appointment.status != Appointment.Status.COMPLETED:
            return gettext_noop("The visit was not completed.")
        if now - appointment.end > AFTERCARE_TOO_LATE:
            return gettext_noop("Too long after the visit for aftercare to help.")
    elif kind in PLAN_KINDS:
        plan = notification.plan
        if plan is None or plan.status != TreatmentPlan.Status.ACTIVE:
            return gettext_noop("The plan is no longer active.")
        if notification.session_number in schedule.placed_dates(plan):
            return gettext_noop("The session is booked.")
    return ""


class _Senders:
    """One email connection, one SMS backend and one sender rate limit per dispatch run."""

    def __init__(self):
        self.sms = sms.get_backend()
        self.mail = get_connection()
        self.sms_rate = sms.sender_rate_limit(self.sms)

    def send(self, notification: Notification, now: datetime) -> None:
        if notification.channel == Channel.SMS:
            self.sms.send(
                sms.SMSMessage(
                    to=str(notification.patient.phone),
                    body=render_sms(notification),
                    reference=notification.key,
                )
            )
        else:
            build_email(notification, now=now, connection=self.mail).send()


UPDATED_FIELDS = [
    "status",
    "sent_at",
    "attempts",
    "last_error",
    "due_at",
    "claimed_until",
    "rate_slot",
]

# Status of a message the sender's rate limit moved to a later second (it is pending again).
DEFERRED = "deferred"


def deliver(
    pks: list[int],
    *,
    lease_until: datetime,
    clock: Callable[[], datetime],
    senders: _Senders,
) -> dict[int, str]:
    """Send claimed messages in one transaction, until all are sent or the chunk has taken
    settings.REMINDERS_CHUNK_SECONDS; returns each handled message's new status, "lost" for a
    claim another dispatcher took over after our lease ran out. Messages not reached are left
    out of the result, still claimed, for the next call. The time cap bounds what a crash before
    the commit re-sends: with a slow provider every message commits on its own again.

    Appointments are locked first, then the rows: the order a reschedule or cancel takes them
    in (it locks the visit, then re-plans its messages), so the two wait for each other instead
    of deadlocking."""
    results: dict[int, str] = {}
    with transaction.atomic():
        appointments = Appointment.objects.select_for_update(no_key=True, of=("self",))
        appointments = appointments.select_related("location", "treatment").filter(
            pk__in=Notification.objects.filter(pk__in=pks).values("appointment_id")
        )
        visits = {visit.pk: visit for visit in appointments.order_by("pk")}
        notifications = list(
            Notification.objects.select_for_update(of=("self",))
            .select_related("patient", "plan__location")
            .filter(pk__in=pks, status=Status.SENDING, claimed_until=lease_until)
            .order_by("pk")
        )
        _remember_locations(notifications)
        policies: dict[int, ReminderPolicy] = {}

        def policy(location: Location) -> ReminderPolicy:
            if location.pk not in policies:
                policies[location.pk] = policy_for(location)
            return policies[location.pk]

        found = {notification.pk for notification in notifications}
        results.update((pk, "lost") for pk in pks if pk not in found)
        cap = monotonic_clock.monotonic() + settings.REMINDERS_CHUNK_SECONDS
        now = clock()
        sent = []
        for handled, notification in enumerate(notifications):
            if handled and monotonic_clock.monotonic() >= cap:
                break
            if notification.appointment_id:
                notification.appointment = visits[notification.appointment_id]
            status = results[notification.pk] = _deliver_one(notification, now, senders, policy)
            if status == Status.SENT:
                sent.append(notification.pk)
            else:  # skipped, failed or deferred: rarer, each with its own values
                notification.save(update_fields=UPDATED_FIELDS)
        if sent:  # the usual outcome, in one statement for the whole chunk
            Notification.objects.filter(pk__in=sent).update(
                status=Status.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                claimed_until=None,
                rate_slot=None,
            )
    return results


def _remember_locations(notifications: list[Notification]) -> None:
    """The clinics of messages that are about neither a visit nor a plan, in one query."""
    wanted = {
        n: (n.context or {}).get("location")
        for n in notifications
        if not n.appointment_id and not n.plan_id
    }
    found = Location.objects.in_bulk({pk for pk in wanted.values() if pk})
    for notification, location_id in wanted.items():
        remember_location(notification, found.get(location_id))


def _deliver_one(
    notification: Notification,
    now: datetime,
    senders: _Senders,
    policy: Callable[[Location], ReminderPolicy],
) -> str:
    """Check one locked message and send it, skip it, or move it to its sender's next free
    second; the row is changed in memory only (the chunk saves them all at once)."""
    notification.claimed_until = None
    reason = why_not_send(notification, now, policy)
    if reason:
        notification.status, notification.last_error = Status.SKIPPED, reason
        return notification.status
    if notification.channel == Channel.SMS and senders.sms_rate:
        slot = notification.rate_slot or senders.sms_rate.reserve(now)
        if slot > now:
            # The sender has sent its share of this second: go out in the second reserved,
            # checked again then like any due message.
            notification.status, notification.due_at = Status.PENDING, slot
            notification.rate_slot = slot
            return DEFERRED
    try:
        senders.send(notification, now)
    except sms.RecipientOptedOut:
        notification.status = Status.SKIPPED
        notification.last_error = gettext_noop("The number has opted out of SMS (Twilio 21610).")
        services.set_sms_consent_by_phone(
            str(notification.patient.phone),
            consent=False,
            now=now,
            reason="Twilio error 21610: the number has opted out",
        )
    except Exception as error:  # any provider failure is retried, then reported
        # Provider errors can quote the phone number: the log gets the class only; the
        # full text stays on the row, for the front desk.
        log.warning("Sending %s failed: %s", notification.key, type(error).__name__)
        _record_failure(notification, error, now)
    else:
        notification.status, notification.sent_at = Status.SENT, now
        notification.attempts += 1  # in memory; deliver() saves it with F() for the chunk
    notification.rate_slot = None
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
    sleep: Callable[[float], None] = monotonic_clock.sleep,
) -> dict[str, int]:
    """Claim and send due messages until none is due or the time budget is spent; SMS the
    sender's rate limit moved to a later second are waited for within the budget, so a burst
    goes out spread at the provider's pace. Returns a count per resulting status."""
    batch = batch or settings.REMINDERS_BATCH_SIZE
    budget = settings.REMINDERS_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = monotonic_clock.monotonic() + budget
    lease = lease_duration()
    margin = lease / 5
    senders = _Senders()
    counts: dict[str, int] = {}
    chunk = settings.REMINDERS_CHUNK_SIZE
    while monotonic_clock.monotonic() < deadline:
        ids, lease_until = claim_due(now=clock(), batch=batch, lease=lease)
        if not ids:
            wait = _until_next_deferred(clock())
            if wait is None or monotonic_clock.monotonic() + wait >= deadline:
                break
            sleep(wait)
            continue
        for index in range(0, len(ids), chunk):
            if clock() >= lease_until - margin or monotonic_clock.monotonic() >= deadline:
                release(ids[index:], lease_until)
                return counts
            pks = ids[index : index + chunk]
            while pks:
                results = deliver(pks, lease_until=lease_until, clock=clock, senders=senders)
                for status in results.values():
                    counts[status] = counts.get(status, 0) + 1
                pks = [pk for pk in pks if pk not in results]
    return counts


def _until_next_deferred(now: datetime) -> float | None:
    """Seconds until the earliest SMS the rate limit moved on is due, or None if there is none."""
    first = (
        Notification.objects.filter(status=Status.PENDING, rate_slot__isnull=False)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return max((first - now).total_seconds(), 0.0) if first else None


def retry(notification: Notification, *, now: datetime) -> bool:
    """Put a failed message back in the queue, due now. False if it was not failed."""
    return bool(
        Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.PENDING, due_at=now, attempts=0, claimed_until=None
        )
    )
