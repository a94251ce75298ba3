"""The outbox: one row per message to send, and each location's reminder policy.

The tables keep their original names (``booking_notification``, ``booking_reminderpolicy``):
the models moved here from booking without moving any data (migration 0001).
"""

from datetime import datetime, time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop, pgettext, pgettext_lazy

from booking.models import Appointment, Location, Patient, TreatmentPlan


class ReminderPolicy(models.Model):
    """When and what a location sends. One per location, created with defaults on first use."""

    location = models.OneToOneField(
        Location, on_delete=models.CASCADE, related_name="reminder_policy"
    )
    long_reminder_hours = models.PositiveIntegerField(default=48)
    short_reminder_hours = models.PositiveIntegerField(default=2)
    aftercare_delay_minutes = models.PositiveIntegerField(default=60)
    window_closing_days = models.PositiveIntegerField(
        default=7, help_text="Warn this many days before an unbooked session's window closes."
    )
    send_confirmation = models.BooleanField(default=True)
    send_reminder_long = models.BooleanField(default=True)
    send_reminder_short = models.BooleanField(default=True)
    send_aftercare = models.BooleanField(default=True)
    send_next_session = models.BooleanField(default=True)
    send_window_closing = models.BooleanField(default=True)
    send_maintenance_recall = models.BooleanField(default=True)
    send_waitlist_offer = models.BooleanField(default=True)
    send_cancelled = models.BooleanField(default=True)
    send_rescheduled = models.BooleanField(default=True)
    quiet_hours_start = models.TimeField(
        default=time(21), help_text="No SMS from this local time (except the short reminder)."
    )
    quiet_hours_end = models.TimeField(default=time(8), help_text="... until this local time.")

    class Meta:
        db_table = "booking_reminderpolicy"
        verbose_name_plural = "reminder policies"

    def __str__(self):
        return f"Reminder policy for {self.location}"

    @classmethod
    def for_location(cls, location: Location) -> "ReminderPolicy":
        policy, _ = cls.objects.get_or_create(location=location)
        return policy

    def sends(self, kind: str) -> bool:
        return getattr(self, f"send_{kind}", True)


class NotificationQuerySet(models.QuerySet):
    def due(self, now: datetime):
        """Pending rows due by now, and rows whose sender's lease ran out (it died)."""
        return self.filter(
            Q(status=Notification.Status.PENDING, due_at__lte=now)
            | Q(status=Notification.Status.SENDING, claimed_until__lt=now)
        )

    def failed(self):
        return self.filter(status=Notification.Status.FAILED)

    def waiting(self):
        """Rows still to go out: pending or being sent, to a patient who can get them (the
        others will be skipped, see Notification.consent_problem)."""
        sms, email = Notification.Channel.SMS, Notification.Channel.EMAIL
        return (
            self.filter(status__in=[Notification.Status.PENDING, Notification.Status.SENDING])
            .exclude(Q(channel=sms) & (Q(patient__sms_consent=False) | Q(patient__phone="")))
            .exclude(Q(channel=email) & (Q(patient__email_consent=False) | Q(patient__email="")))
        )


def _as_reason(sentence: str) -> str:
    """A stored English reason ("No SMS consent.") as the end of "Skipped: no SMS consent", in
    the reader's language when the catalogue has it (the row keeps the English)."""
    text = gettext(sentence).rstrip(".")
    return text[:1].lower() + text[1:]


class Notification(models.Model):
    """One message to one patient on one channel: the outbox row the dispatcher sends.

    `key` is unique, so the same message cannot be queued twice; for appointment messages it
    names the start it is about, so a reschedule makes fresh rows and a stale one is never sent.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", pgettext_lazy("message kind", "Confirmation")
        REMINDER_LONG = "reminder_long", pgettext_lazy("message kind", "Reminder (long)")
        REMINDER_SHORT = "reminder_short", pgettext_lazy("message kind", "Reminder (short)")
        AFTERCARE = "aftercare", pgettext_lazy("message kind", "Aftercare")
        NEXT_SESSION = "next_session", pgettext_lazy("message kind", "Book your next session")
        WINDOW_CLOSING = "window_closing", pgettext_lazy("message kind", "Window closing")
        MAINTENANCE_RECALL = (
            "maintenance_recall",
            pgettext_lazy("message kind", "Maintenance recall"),
        )
        WAITLIST_OFFER = "waitlist_offer", pgettext_lazy("message kind", "Waitlist offer")
        CANCELLED = "cancelled", pgettext_lazy("message kind", "Cancellation notice")
        RESCHEDULED = "rescheduled", pgettext_lazy("message kind", "Reschedule notice")
        RECEIPT = "receipt", pgettext_lazy("message kind", "Receipt")

    class Channel(models.TextChoices):
        EMAIL = "email", pgettext_lazy("message channel", "Email")
        SMS = "sms", pgettext_lazy("message channel", "SMS")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("message status", "Pending")
        SENDING = "sending", pgettext_lazy("message status", "Sending")
        SENT = "sent", pgettext_lazy("message status", "Sent")
        FAILED = "failed", pgettext_lazy("message status", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("message status", "Cancelled")
        SKIPPED = "skipped", pgettext_lazy("message status", "Skipped")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="notifications")
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    plan = models.ForeignKey(
        TreatmentPlan,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    about_start = models.DateTimeField(
        null=True, blank=True, help_text="The appointment start this message is about."
    )
    context = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    rate_slot = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The second this SMS was given under its sender's rate limit; it goes out then.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        db_table = "booking_notification"
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="notification_claim"),
            models.Index(fields=["status", "claimed_until"], name="notification_lease"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.channel} to {self.patient} ({self.status})"

    def consent_problem(self) -> str:
        """Why the patient cannot get this message on its channel ('' if they can)."""
        patient = self.patient
        if self.channel == self.Channel.SMS and not patient.sms_consent:
            return gettext_noop("No SMS consent.")
        if self.channel == self.Channel.SMS and not patient.phone:
            return gettext_noop("No phone number.")
        if self.channel == self.Channel.EMAIL and not patient.email_consent:
            return gettext_noop("No email consent.")
        if self.channel == self.Channel.EMAIL and not patient.email:
            return gettext_noop("No email address.")
        return ""

    @property
    def outlook(self) -> str:
        """What the desk is told: what happened, or what will happen to a waiting message
        ("Skipped: no SMS consent" rather than "Pending" for one that will never go out)."""
        waiting = self.status in (self.Status.PENDING, self.Status.SENDING)
        problem = self.consent_problem() if waiting else ""
        if problem:
            return pgettext("message outlook", "Skipped: %(reason)s") % {
                "reason": _as_reason(problem)
            }
        if self.status == self.Status.PENDING:
            return pgettext("message outlook", "Waiting to send")
        if self.status == self.Status.SKIPPED and self.last_error:
            reason = _as_reason(self.last_error)
            return pgettext("message outlook", "Skipped: %(reason)s") % {"reason": reason}
        if self.status == self.Status.FAILED:
            return pgettext("message outlook", "Failed: not sent")
        return self.get_status_display()


class ProviderEvent(models.Model):
    """A webhook from the SMS provider that has been acted on: a reply (STOP, START) or a
    delivery report. Twilio retries a webhook it got no answer to, and a signed request can be
    replayed as is (the signature has no timestamp), so the same (message_sid, event) is
    acted on once: the unique constraint decides, even for two copies arriving at once."""

    message_sid = models.CharField(max_length=64)
    event = models.CharField(max_length=30, help_text="'reply', or 'status:' and the status.")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_sid", "event"], name="provider_event_once_per_message"
            )
        ]

    def __str__(self):
        return f"{self.message_sid} {self.event}"


class CallBackQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(called_back_at__isnull=True)


class CallBackRequest(models.Model):
    """A patient replied R to a reminder: the front desk should ring them."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="call_backs")
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_backs",
        help_text="The visit coming up when they asked.",
    )
    phone = models.CharField(max_length=20)
    requested_at = models.DateTimeField()
    called_back_at = models.DateTimeField(null=True, blank=True)
    called_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CallBackQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at"]

    def __str__(self):
        return f"Call back {self.patient} ({self.phone})"


class BouncedEmail(models.Model):
    """The mail provider could not deliver to an address (a hard bounce), or the patient
    marked a message as spam (a complaint): email reminders are off for that patient."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="bounced_emails"
    )
    address = models.EmailField()
    event_type = models.CharField(max_length=20, help_text="bounced or complained")
    esp = models.CharField("mail provider", max_length=30)
    event_id = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["esp", "event_id", "address"],
                condition=~Q(event_id=""),
                name="bounced_email_once_per_event",
            )
        ]

    def __str__(self):
        return f"{self.address} {self.event_type} ({self.esp})"
