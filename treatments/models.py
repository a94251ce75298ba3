"""What the clinic sells: treatments, their protocols and their safety screening rules.

This app knows nothing of booking; booking imports it, never the reverse.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from treatments import protocols, screening


class TreatmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Treatment(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=200, blank=True, help_text="One line for the catalogue.")
    description = models.TextField(blank=True)
    what_to_expect = models.TextField(blank=True)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    numbing_minutes = models.PositiveIntegerField(
        default=0,
        help_text="Topical anaesthetic time before the treatment: the patient holds the room, "
        "the aesthetician is free.",
    )
    cleanup_minutes = models.PositiveIntegerField(
        default=0, help_text="Room and aesthetician stay busy this long after the visit."
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    precare = models.TextField("pre-care instructions", blank=True)
    aftercare = models.TextField("aftercare instructions", blank=True)
    is_consultation = models.BooleanField(
        default=False, help_text="A consultation: offered when screening asks for one first."
    )
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveIntegerField(default=0)

    objects = TreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("treatment_detail", args=[self.slug])

    @property
    def visit_minutes(self) -> int:
        """How long the patient is here: numbing plus treatment."""
        return self.numbing_minutes + self.duration_minutes

    @property
    def protocol_or_none(self) -> "Protocol | None":
        try:
            return self.protocol
        except Protocol.DoesNotExist:
            return None


class Protocol(models.Model):
    """A course of sessions for one treatment, e.g. microneedling: 3-5 sessions 4-6 weeks apart."""

    treatment = models.OneToOneField(Treatment, on_delete=models.CASCADE, related_name="protocol")
    min_sessions = models.PositiveSmallIntegerField(default=3)
    default_sessions = models.PositiveSmallIntegerField(default=3)
    max_sessions = models.PositiveSmallIntegerField(default=5)
    interval_min_days = models.PositiveSmallIntegerField(default=28)
    interval_max_days = models.PositiveSmallIntegerField(default=42)
    maintenance_offsets_months = models.JSONField(
        default=list,
        blank=True,
        help_text="Months after the last initial session, e.g. [6, 12].",
    )
    maintenance_window_days = models.PositiveSmallIntegerField(default=14)
    needle_depth_min_mm = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    needle_depth_max_mm = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)

    def __str__(self):
        return f"{self.treatment} protocol"

    def clean(self):
        errors = protocols.validate_rules(self.rules)
        low, high = self.needle_depth_min_mm, self.needle_depth_max_mm
        if (low is None) != (high is None):
            errors.append("Give both needle-depth bounds, or neither.")
        elif low is not None and not Decimal("0") < low <= high:
            errors.append("The needle-depth minimum must be above 0 and at most the maximum.")
        if errors:
            raise ValidationError(errors)

    @property
    def rules(self) -> protocols.ProtocolRules:
        offsets = self.maintenance_offsets_months or []
        return protocols.ProtocolRules(
            min_sessions=self.min_sessions,
            default_sessions=self.default_sessions,
            max_sessions=self.max_sessions,
            interval_min_days=self.interval_min_days,
            interval_max_days=self.interval_max_days,
            maintenance_offsets_months=tuple(int(m) for m in offsets),
            maintenance_window_days=self.maintenance_window_days,
        )

    def describe(self) -> str:
        return protocols.describe(self.rules)


class ScreeningRule(models.Model):
    """One contraindication question and what a "yes" means for booking."""

    class Outcome(models.TextChoices):
        NOT_NOW = screening.Outcome.NOT_NOW.value, "Not now (offer a consultation)"
        CONSULT_FIRST = screening.Outcome.CONSULT_FIRST.value, "Consultation first"
        PROVIDER_REVIEW = screening.Outcome.PROVIDER_REVIEW.value, "Bookable, flagged for review"

    code = models.SlugField(unique=True)
    question = models.CharField(max_length=200)
    condition = models.CharField(
        max_length=120,
        blank=True,
        help_text='The condition named plainly, for "Who it is not for": "Pregnancy or '
        'breastfeeding".',
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    lookback_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For 'in the last N days' questions, e.g. isotretinoin: 183 days.",
    )
    explanation = models.TextField(blank=True, help_text="Shown kindly to the patient.")
    treatments = models.ManyToManyField(Treatment, related_name="screening_rules", blank=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "code"]

    def __str__(self):
        return self.question

    def as_rule(self) -> screening.Rule:
        return screening.Rule(
            code=self.code,
            question=self.question,
            outcome=screening.Outcome(self.outcome),
            lookback_days=self.lookback_days,
            explanation=self.explanation,
            condition=self.condition,
        )
