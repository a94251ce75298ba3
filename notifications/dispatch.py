"""The dispatcher: claims due outbox rows and sends them.

Dispatch claims due rows with SELECT ... FOR UPDATE SKIP LOCKED and a lease; each message is
then sent inside a transaction that holds its row (and its appointment) locked, so no other
dispatcher can send it and no reschedule can slip in between the check and the send. The one
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
from django.utils import timezone

from booking import schedule, services
from booking.models import Appointment, TreatmentPlan
from notifications import sms
from notifications.models import Notification
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
from notifications.rendering import build_email, location_of, render_sms

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


def why_not_send(notification: Notification, now: datetime) -> str:
    """'' if the message should go out now, else why it is skipped."""
    patient = notification.patient
    if notification.channel == Channel.SMS and not (patient.sms_consent and patient.phone):
        return "No SMS consent or no phone number."
    if notification.channel == Channel.EMAIL and not (patient.email_consent and patient.email):
        return "No email consent or no email address."
    appointment = notification.appointment
    location = appointment.location if appointment else location_of(notification)
    if location and not policy_for(location).sends(notification.kind):
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
        if notification.session_number in schedule.placed_dates(plan):
            return "The session is booked."
    return ""


class _Senders:
    """One email connection and one SMS backend per dispatch run."""

    def __init__(self):
        self.sms = sms.get_backend()
        self.mail = get_connection()

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
            except sms.RecipientOptedOut:
                notification.status = Status.SKIPPED
                notification.last_error = "The number has opted out of SMS (Twilio 21610)."
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
