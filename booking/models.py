"""Where, who and when: locations, rooms, aestheticians, patients, plans and appointments.

Times are stored as UTC instants. Each location has an IANA time zone; pages show times in it
and series are planned in its wall-clock time.
"""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Self

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat, Upper
from django.utils import timezone, translation
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField  # type: ignore[import-untyped]

from booking.phones import E164_PATTERN
from treatments import protocols
from treatments.models import ScreeningRule, Treatment
from treatments.money import CURRENCIES


def validate_time_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(name)s is not a time zone name; use one like America/New_York.",
            params={"name": name},
        )


def validate_region(code: str) -> None:
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            "%(code)s is not a country code; use two letters like US, ES or FR.",
            params={"code": code},
        )


def supported_language(code: str | None) -> str:
    """The one of settings.LANGUAGES that `code` ("es-mx", "en-us", None) belongs to."""
    base = (code or "").split("-")[0].lower()
    return base if base in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def e164_or_blank(field: str) -> Q:
    """What a phone column may hold: nothing, or one E.164 number."""
    return Q(**{field: ""}) | Q(**{f"{field}__regex": E164_PATTERN})


class Location(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    address = models.CharField(max_length=200, blank=True)
    country = models.CharField(
        max_length=2,
        default="US",
        validators=[validate_region],
        help_text="Two-letter country code: phone numbers typed without +country code are "
        "read as this country's (the clinic's own and its patients').",
    )
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    currency = models.CharField(
        max_length=3,
        default="USD",
        choices=[(code, code) for code in CURRENCIES],
        help_text="ISO 4217 code of the currency this location charges in.",
    )
    cancellation_notice_hours = models.PositiveIntegerField(
        default=48, help_text="Cancelling later than this counts as a late cancellation."
    )
    min_notice_minutes = models.PositiveIntegerField(
        default=120, help_text="Online bookings need at least this much notice."
    )
    booking_horizon_days = models.PositiveIntegerField(
        default=120, help_text="How far ahead patients can book online."
    )
    slot_step_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(120)]
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=e164_or_blank("phone"), name="location_phone_e164")
        ]

    def __str__(self):
        return self.name

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local(self, instant: datetime) -> datetime:
        """An instant shown on this location's wall clock."""
        return timezone.localtime(instant, self.zone)


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=60)
    treatments = models.ManyToManyField(
        Treatment, related_name="rooms", blank=True, help_text="Treatments this room can host."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_name_unique_per_location"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.location})"


class ProviderQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.filter(is_active=True)

    def performing(self, treatment, location):
        return self.active().filter(treatments=treatment, locations=location).distinct()


class Provider(models.Model):
    """An aesthetician: a staff user who performs treatments at one or more locations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider"
    )
    display_name = models.CharField(max_length=100)
    title = models.CharField(max_length=100, blank=True, help_text="e.g. Licensed aesthetician")
    bio = models.TextField(blank=True)
    locations = models.ManyToManyField(Location, related_name="providers")
    treatments = models.ManyToManyField(Treatment, related_name="providers")
    colour = models.CharField(max_length=7, default="#6f42c1", help_text="Calendar colour.")
    is_active = models.BooleanField(default=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name


class WorkingHours(models.Model):
    """A weekly block of work at one location, in that location's wall-clock time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["provider", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="working_hours_end_after_start"
            )
        ]

    def __str__(self):
        return (
            f"{self.provider} {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}-{self.end_time:%H:%M} at {self.location}"
        )

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "Working hours must end after they start."})


class TimeOff(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_end_after_start")
        ]

    def __str__(self):
        return f"{self.provider} off {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "Time off must end after it starts."})


class ClosedDay(models.Model):
    """A day a location is shut (a holiday): nobody can be booked there that local day."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField(help_text="The local calendar day the clinic is closed.")
    name = models.CharField(max_length=100, help_text='Shown to patients, e.g. "New Year\'s Day".')

    class Meta:
        ordering = ["location", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "date"], name="closed_day_unique_per_location"
            )
        ]

    def __str__(self):
        return f"{self.location} closed {self.date:%Y-%m-%d} ({self.name})"


def patient_search_text() -> Upper:
    """A patient's first and last name, email and phone as one upper-cased text, for the
    trigram index of migration 0009. The fields are joined by spaces, which no searched word
    contains, so a word is found in this text exactly when it is found in one of the fields."""
    return Upper(
        Concat(
            "first_name",
            Value(" "),
            "last_name",
            Value(" "),
            "email",
            Value(" "),
            "phone",
            output_field=TextField(),
        )
    )


class PatientQuerySet(models.QuerySet):
    def search(self, query: str) -> Self:
        """Patients with every word of ``query`` (up to four) in a name, email or phone, any
        case. On PostgreSQL one trigram index (migration 0009) serves the whole search."""
        words = query.split()[:4]
        if not words:
            return self.none()
        patients = self.alias(search_text=patient_search_text())
        for word in words:
            if PHONE_TYPED.fullmatch(word):
                # (404) 555-0101 or 404.555.0101: phones are stored as +14045550101.
                word = "".join(c for c in word if c.isdigit())
            # Upper-cased by the database, as the indexed text is.
            patients = patients.filter(search_text__contains=Upper(Value(word)))
        return patients


# A word of a phone number as people type it: digits and the punctuation around them.
PHONE_TYPED = re.compile(r"[+(]?\d[\d().\-]*")


class Patient(models.Model):
    """A patient record. Online patients have a user account; phone patients may not."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient",
    )
    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    email = models.EmailField(blank=True, db_index=True)
    phone = PhoneNumberField(blank=True, db_index=True, help_text="Stored in E.164: +14045550100.")
    date_of_birth = models.DateField(null=True, blank=True)
    email_consent = models.BooleanField("email reminders", default=True)
    sms_consent = models.BooleanField("SMS reminders", default=False)
    # The language of this patient's pages once signed in and of every message sent to them.
    # Blank until chosen: a new record takes the language it was made in (save()).
    language = models.CharField(
        "language", max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    fitzpatrick_type = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    cleared_for_protocols = models.BooleanField(
        default=False,
        help_text="Staff cleared this patient for protocol treatments after a consultation.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(condition=e164_or_blank("phone"), name="patient_phone_e164")
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.language:
            self.language = supported_language(translation.get_language())
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def message_language(self) -> str:
        """The language messages to this patient are written in."""
        return self.language or settings.LANGUAGE_CODE


class PendingSignUp(models.Model):
    """An account made by the public sign-up form whose emailed link has not been used yet.

    Only an inactive account with this row may be activated by a link; any other inactive
    account was deactivated by staff and stays so until staff tick "active" again. The row
    holds the sign-up as first entered for `settings.PASSWORD_RESET_TIMEOUT` seconds (the
    lifetime of the emailed link, three days by default); after that a new sign-up with the
    same email may start over. Activation deletes it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pending_sign_up",
    )
    started_at = models.DateTimeField()

    def __str__(self):
        return f"{self.user} signing up since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def expires_at(self) -> datetime:
        return self.started_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    def has_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class ScreeningAnswer(models.Model):
    """One dated answer to a screening question; the latest answer per question counts."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="screening_answers")
    rule = models.ForeignKey(ScreeningRule, on_delete=models.PROTECT, related_name="answers")
    yes = models.BooleanField()
    last_occurred = models.DateField(
        null=True, blank=True, help_text="For look-back questions: when it last happened."
    )
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at"]
        indexes = [models.Index(fields=["patient", "rule", "-answered_at"])]

    def __str__(self):
        return f"{self.patient}: {self.rule.code}={'yes' if self.yes else 'no'}"


class TreatmentPlan(models.Model):
    """A patient's course of one protocol: the chosen number of sessions and their bookings."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("plan status", "Active")
        COMPLETED = "completed", pgettext_lazy("plan status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("plan status", "Cancelled")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plans")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="plans")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="plans")
    provider = models.ForeignKey(
        Provider,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
        help_text="Preferred aesthetician.",
    )
    sessions = models.PositiveSmallIntegerField(help_text="Initial sessions chosen.")
    first_date = models.DateField(help_text="Target date of the first session.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.treatment} plan for {self.patient} ({self.sessions} sessions)"

    def clean(self):
        protocol = self.treatment.protocol_or_none if self.treatment_id else None
        if self.treatment_id and protocol is None:
            raise ValidationError({"treatment": "This treatment has no protocol to plan."})
        problem = protocol and protocols.session_count_problem(protocol.rules, self.sessions or 0)
        if problem:
            raise ValidationError({"sessions": problem})


class AppointmentStatus(models.TextChoices):
    """Labels in the reader's language: patients see them on their visits."""

    BOOKED = "booked", pgettext_lazy("visit status", "Booked")
    CONFIRMED = "confirmed", pgettext_lazy("visit status", "Confirmed")
    CHECKED_IN = "checked_in", pgettext_lazy("visit status", "Checked in")
    COMPLETED = "completed", pgettext_lazy("visit status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("visit status", "Cancelled")
    NO_SHOW = "no_show", pgettext_lazy("visit status", "No-show")


# The one definition of which visits hold time (an aesthetician, a room, a patient). The
# exclusion constraints of migrations 0002 and 0007 repeat it in SQL, built from this tuple;
# tests/test_statuses.py checks the database's constraints still say the same.
ACTIVE_STATUSES: tuple[AppointmentStatus, ...] = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
)
# A course session is placed (it has its date) while booked and once done.
PLACED_STATUSES: tuple[AppointmentStatus, ...] = (*ACTIVE_STATUSES, AppointmentStatus.COMPLETED)


class AppointmentQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.filter(status__in=ACTIVE_STATUSES)

    def placed(self) -> Self:
        """Visits that fix a course session's date: booked or done."""
        return self.filter(status__in=PLACED_STATUSES)

    def for_provider(self, provider):
        return self.filter(provider=provider)

    def for_patient(self, patient):
        return self.filter(patient=patient)

    def at_location(self, location):
        return self.filter(location=location)

    def holding_provider_between(self, start: datetime, end: datetime):
        """Appointments whose provider time overlaps [start, end)."""
        return self.filter(provider_start__lt=end, held_until__gt=start)

    def holding_room_between(self, start: datetime, end: datetime):
        """Appointments whose room time overlaps [start, end)."""
        return self.filter(start__lt=end, held_until__gt=start)


class HeldTimes:
    """The times a visit keeps busy, for Appointment and Hold: the room [start, held_until),
    the aesthetician [provider_start, held_until)."""

    treatment: Treatment
    start: datetime
    provider_start: datetime
    end: datetime
    held_until: datetime

    def set_times(self, start: datetime) -> None:
        """Fill end and the held times from the start and the treatment's timings.

        The arithmetic is done in UTC: adding minutes to a local time would add wall-clock
        minutes and be an hour off across a DST change."""
        treatment = self.treatment
        start = start.astimezone(UTC)
        self.start = start
        self.provider_start = start + timedelta(minutes=treatment.numbing_minutes)
        self.end = start + timedelta(minutes=treatment.visit_minutes)
        self.held_until = self.end + timedelta(minutes=treatment.cleanup_minutes)


class Appointment(HeldTimes, models.Model):
    """One visit. The room is held [start, held_until), the aesthetician
    [provider_start, held_until): numbing needs a room, not a person; held_until includes the
    cleanup buffer. Write through booking.services, which keep those fields right.
    """

    Status = AppointmentStatus

    class Kind(models.TextChoices):
        SINGLE = "single", pgettext_lazy("visit kind", "Single")
        INITIAL = "initial", pgettext_lazy("visit kind", "Initial session")
        MAINTENANCE = "maintenance", pgettext_lazy("visit kind", "Maintenance session")
        CONSULTATION = "consultation", pgettext_lazy("visit kind", "Consultation")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField(help_text="When the patient arrives (numbing starts).")
    end = models.DateTimeField(help_text="When the patient leaves.")
    provider_start = models.DateTimeField(help_text="When the aesthetician is needed.")
    held_until = models.DateTimeField(help_text="End plus the cleanup buffer.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SINGLE)
    plan = models.ForeignKey(
        TreatmentPlan,
        on_delete=models.PROTECT,  # a plan with visits is cancelled, never deleted
        null=True,
        blank=True,
        related_name="appointments",
    )
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    out_of_window_reason = models.CharField(
        max_length=200, blank=True, help_text="Why staff booked this session outside its window."
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=200, blank=True)
    late_cancellation = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    # Bumped on every move and cancellation, so a calendar polling a feed replaces its copy
    # (iCalendar SEQUENCE; calendars.feeds).
    sequence = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_via = models.CharField(
        max_length=10,
        blank=True,
        choices=[
            ("sms", pgettext_lazy("confirmed via", "SMS reply")),
            ("email", pgettext_lazy("confirmed via", "email link")),
            ("desk", pgettext_lazy("confirmed via", "front desk")),
        ],
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["provider", "start"]),
            models.Index(fields=["location", "start"]),
            models.Index(fields=["patient", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(provider_start__gte=F("start"))
                & Q(provider_start__lt=F("end"))
                & Q(held_until__gte=F("end")),
                name="appointment_held_times_consistent",
            ),
        ]
        # The no-overlap rules for providers and rooms are PostgreSQL exclusion constraints,
        # created in booking/migrations/0002_no_double_booking.py.

    def __str__(self):
        return f"{self.treatment} for {self.patient} at {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def local_start(self) -> datetime:
        return self.location.local(self.start)

    @property
    def local_end(self) -> datetime:
        return self.location.local(self.end)

    def is_inside_notice(self, now: datetime) -> bool:
        """Closer to the visit than the location's cancellation notice."""
        return self.start - now < timedelta(hours=self.location.cancellation_notice_hours)

    def clean(self):
        errors = {}
        if self.start and self.end and self.end <= self.start:
            errors["end"] = "An appointment must end after it starts."
        if self.room_id and self.location_id and self.room.location_id != self.location_id:
            errors["room"] = "This room is at another location."
        if errors:
            raise ValidationError(errors)


class AuditEntry(models.Model):
    """Who changed what, when: every staff write to a patient, plan or appointment."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40)
    patient = models.ForeignKey(
        Patient, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    plan = models.ForeignKey(
        TreatmentPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    reason = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="Field: [before, after].")

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self) -> Self:
        return self.filter(status=WaitlistEntry.Status.WAITING)


class WaitlistEntry(models.Model):
    """A patient waiting for a time: a treatment at a location between two local dates,
    optionally with one aesthetician. Offered freed times through the reminders outbox."""

    class Status(models.TextChoices):
        WAITING = "waiting", pgettext_lazy("waitlist status", "Waiting")
        OFFERED = "offered", pgettext_lazy("waitlist status", "Offered")
        BOOKED = "booked", pgettext_lazy("waitlist status", "Booked")
        REMOVED = "removed", pgettext_lazy("waitlist status", "Removed")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="waitlist")
    provider = models.ForeignKey(
        Provider,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only this aesthetician; empty for anyone.",
    )
    earliest_date = models.DateField()
    latest_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    notes = models.CharField(max_length=200, blank=True)
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["location", "treatment", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_date__gte=F("earliest_date")),
                name="waitlist_latest_after_earliest",
            )
        ]

    def __str__(self):
        return f"{self.patient} waiting for {self.treatment} at {self.location}"


class BookingDraft(models.Model):
    """A patient's booking in progress, kept server-side under a random token so it survives a
    change of browser: the session, a "continue on another device" link and the emailed links
    all carry only the token. `data` holds the choices (ids, the start, health answers), never
    contact details. Drafts nobody touched for DRAFT_LIFETIME are swept away with their holds.
    """

    token = models.CharField(max_length=64, primary_key=True)
    data = models.JSONField(default=dict)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"booking draft {self.token[:6]}…"


class Hold(HeldTimes, models.Model):
    """A time a patient picked and is still booking: the aesthetician and room are kept for
    them, the same intervals an appointment would hold ([start, held_until) for the room,
    [provider_start, held_until) for the aesthetician), until `expires_at`.

    Two holds never overlap on one aesthetician or one room: PostgreSQL exclusion constraints
    (migration 0017) decide, so two drafts racing for one slot cannot both win; a live hold and
    an active appointment never overlap either (triggers, migration 0019). An expired hold
    is ignored by availability and deleted before a new hold is placed (and by a periodic
    sweep). Write through booking.services.holds.
    """

    draft = models.ForeignKey(BookingDraft, on_delete=models.CASCADE, related_name="holds")
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="holds")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="holds")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="holds")
    start = models.DateTimeField()
    end = models.DateTimeField()
    provider_start = models.DateTimeField()
    held_until = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(provider_start__gte=F("start"))
                & Q(provider_start__lt=F("end"))
                & Q(held_until__gte=F("end")),
                name="hold_times_consistent",
            ),
        ]
        # No-overlap between holds: exclusion constraints in migration 0017.

    def __str__(self):
        return f"hold on {self.provider} at {self.start:%Y-%m-%d %H:%M} UTC"
