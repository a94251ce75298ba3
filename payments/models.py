"""What a clinic charges and what it took: policies, the terms frozen onto each booking, and
the ledger (payments, refunds, and the backend's webhook events).

Amounts are Decimal columns with the currency beside them (`treatments.money.Money` when
read); times are UTC instants.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from booking.models import Appointment, Location, Patient, TreatmentPlan
from treatments.models import Treatment
from treatments.money import CURRENCIES, Money

CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


def amount_field(**kwargs) -> models.DecimalField:
    """An amount of money (its currency in a column beside it): never negative."""
    return models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))], **kwargs
    )


class Charge(models.TextChoices):
    """How a deposit or fee is worked out from the price."""

    NONE = "none", "None"
    FIXED = "fixed", "A fixed amount"
    PERCENT = "percent", "A percentage of the price"


class RefundRule(models.TextChoices):
    BEFORE_NOTICE = "before_notice", "Deposit refunded when cancelled before the notice period"
    NEVER = "never", "Deposit not refundable"
    ALWAYS = "always", "Deposit always refunded on cancellation"


class PaymentPolicy(models.Model):
    """A location's money rules, optionally for one treatment (which then wins)."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="payment_policies"
    )
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="payment_policies",
        help_text="Leave empty for the location's rule for every treatment.",
    )
    deposit = models.CharField(max_length=8, choices=Charge.choices, default=Charge.NONE)
    deposit_value = amount_field(default=Decimal(0))
    card_on_file_required = models.BooleanField(
        default=False, help_text="Patients booking online must keep a card on file."
    )
    late_cancel_fee = models.CharField(max_length=8, choices=Charge.choices, default=Charge.NONE)
    late_cancel_fee_value = amount_field(default=Decimal(0))
    no_show_fee = models.CharField(max_length=8, choices=Charge.choices, default=Charge.NONE)
    no_show_fee_value = amount_field(default=Decimal(0))
    refund_rule = models.CharField(
        max_length=16, choices=RefundRule.choices, default=RefundRule.BEFORE_NOTICE
    )
    course_discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="A course paid up front costs its sessions' price less this percentage.",
    )
    prepaid_session_covers_fee = models.BooleanField(
        default=True,
        help_text="For courses paid up front: a late cancel or no-show uses up a prepaid "
        "session instead of charging a fee.",
    )

    class Meta:
        verbose_name_plural = "payment policies"
        constraints = [
            models.UniqueConstraint(
                fields=["location", "treatment"], name="payment_policy_one_per_treatment"
            ),
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(treatment__isnull=True),
                name="payment_policy_one_default_per_location",
            ),
            models.CheckConstraint(
                condition=~Q(deposit="percent") | Q(deposit_value__lte=100),
                name="payment_policy_deposit_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~Q(late_cancel_fee="percent") | Q(late_cancel_fee_value__lte=100),
                name="payment_policy_late_fee_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~Q(no_show_fee="percent") | Q(no_show_fee_value__lte=100),
                name="payment_policy_no_show_percent_at_most_100",
            ),
        ]

    def __str__(self):
        return f"{self.location}: {self.treatment or 'every treatment'}"

    def clean(self):
        errors = {}
        for field in ("deposit", "late_cancel_fee", "no_show_fee"):
            kind, value = getattr(self, field), getattr(self, f"{field}_value")
            if kind == Charge.PERCENT and value is not None and value > 100:
                errors[f"{field}_value"] = "A percentage is at most 100."
            if kind != Charge.NONE and not value:
                errors[f"{field}_value"] = "Give the amount or percentage, or choose None."
        if errors:
            raise ValidationError(errors)


class BookingTerms(models.Model):
    """The money terms in force when a visit was booked, worked out in its currency. Later
    edits to the policy or the price do not change them."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="terms", null=True, blank=True
    )
    plan = models.OneToOneField(
        TreatmentPlan, on_delete=models.CASCADE, related_name="terms", null=True, blank=True
    )
    policy = models.ForeignKey(
        PaymentPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    price = amount_field()
    deposit = amount_field()
    late_cancel_fee = amount_field()
    no_show_fee = amount_field()
    card_on_file_required = models.BooleanField(default=False)
    card_due_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Booked online under terms that need a card on file: a card must be saved "
        "by then, or the visit is let go (cleared once one is).",
    )
    refund_rule = models.CharField(max_length=16, choices=RefundRule.choices)
    notice_hours = models.PositiveIntegerField()
    prepaid_session_covers_fee = models.BooleanField(default=True)
    sentence = models.TextField(help_text="What the patient was shown, in plain words.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "booking terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(appointment__isnull=False, plan__isnull=True)
                | Q(appointment__isnull=True, plan__isnull=False),
                name="booking_terms_for_one_visit_or_one_plan",
            )
        ]

    def __str__(self):
        return f"Terms of {self.appointment or self.plan}"

    def money(self, field: str) -> Money:
        return Money(getattr(self, field), self.currency)


class PaymentQuerySet(models.QuerySet):
    def succeeded(self):
        return self.filter(state__in=TAKEN_STATES)


class Payment(models.Model):
    """Money asked for or taken. Its state moves only through `payments.services`, driven
    for online payments by the backend's signed webhooks, never by the browser."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", pgettext_lazy("payment kind", "Deposit")
        SESSION = "session", pgettext_lazy("payment kind", "Session")
        COURSE = "course", pgettext_lazy("payment kind", "Course")
        FEE = "fee", pgettext_lazy("payment kind", "Fee")

    class Method(models.TextChoices):
        ONLINE = "online", pgettext_lazy("payment method", "Card online")
        CARD_ON_FILE = "card_on_file", pgettext_lazy("payment method", "Card on file")
        CASH = "cash", pgettext_lazy("payment method", "Cash")
        TERMINAL = "terminal", pgettext_lazy("payment method", "Outside card terminal")

    class Fee(models.TextChoices):
        NONE = "", pgettext_lazy("payment fee", "Not a fee")
        LATE_CANCEL = "late_cancel", pgettext_lazy("payment fee", "Late-cancel fee")
        NO_SHOW = "no_show", pgettext_lazy("payment fee", "No-show fee")

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("payment state", "Pending")
        SUCCEEDED = "succeeded", pgettext_lazy("payment state", "Succeeded")
        PARTLY_REFUNDED = "partly_refunded", pgettext_lazy("payment state", "Partly refunded")
        REFUNDED = "refunded", pgettext_lazy("payment state", "Refunded")
        FAILED = "failed", pgettext_lazy("payment state", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("payment state", "Cancelled")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    method = models.CharField(max_length=12, choices=Method.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="payments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="payments")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    fee = models.CharField(max_length=12, choices=Fee.choices, blank=True, default="")
    amount = amount_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    refunded = amount_field(default=Decimal(0))
    backend = models.CharField(max_length=12, help_text="offline or stripe")
    backend_id = models.CharField(max_length=80, blank=True, help_text="e.g. pi_... for Stripe")
    client_secret = models.CharField(max_length=120, blank=True)
    failure = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    succeeded_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["backend", "backend_id"],
                condition=~Q(backend_id=""),
                name="payment_backend_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(refunded__lte=models.F("amount")), name="payment_refund_at_most_paid"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # One fee of each kind per visit (a second click charges nothing).
            models.UniqueConstraint(
                fields=["appointment", "fee"],
                condition=~Q(fee="") & ~Q(state__in=["failed", "cancelled"]),
                name="payment_one_fee_per_visit",
            ),
            # One live online deposit per visit.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(kind="deposit") & ~Q(state__in=["failed", "cancelled"]),
                name="payment_one_deposit_per_visit",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.money} ({self.state})"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def refundable(self) -> Money:
        if self.state not in TAKEN_STATES:
            return Money.zero(self.currency)
        return Money(self.amount - self.refunded, self.currency)

    @property
    def failure_text(self) -> str:
        """Why the card was not taken, in our words and the active language (`failure`
        keeps Stripe's code, never its English text)."""
        from payments.declines import card_problem

        return card_problem(self.failure) if self.failure else ""


class SavedCard(models.Model):
    """A patient's card kept by the processor (we hold only its ids and what it shows)."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="saved_card")
    backend = models.CharField(max_length=12)
    customer_id = models.CharField(max_length=80)
    method_id = models.CharField(max_length=80)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    saved_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.brand} ending {self.last4}"


class PrepaidSessionUse(models.Model):
    """A session of a prepaid course used up by a late cancellation or a no-show, instead of
    a fee (when the terms say so)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="used_sessions")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="prepaid_use"
    )
    reason = models.CharField(max_length=40)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Session used by {self.appointment_id} ({self.reason})"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = amount_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    reason = models.CharField(max_length=200)
    backend_id = models.CharField(max_length=80, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self):
        return f"Refund {self.money} of {self.payment_id}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class PaymentEvent(models.Model):
    """A webhook event the backend sent, stored by its id: the second delivery of one event
    finds the row and changes nothing."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


# Money that reached the clinic (some of it perhaps given back since).
TAKEN_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTLY_REFUNDED, Payment.State.REFUNDED)
