"""What was done at a visit: the aesthetician's treatment chart and its needle depths.

Charts belong to appointments (booking) and read their protocol's bounds (treatments); neither
of those apps imports this one. A chart is edited in place only on the day of the visit; after
that a correction is a new chart that supersedes the old one, which stays on record.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from booking.models import Appointment


class Zone(models.TextChoices):
    FOREHEAD = "forehead", pgettext_lazy("treated zone", "Forehead")
    TEMPLES = "temples", pgettext_lazy("treated zone", "Temples")
    UNDER_EYES = "under_eyes", pgettext_lazy("treated zone", "Under eyes")
    NOSE = "nose", pgettext_lazy("treated zone", "Nose")
    CHEEKS = "cheeks", pgettext_lazy("treated zone", "Cheeks")
    UPPER_LIP = "upper_lip", pgettext_lazy("treated zone", "Upper lip")
    CHIN = "chin", pgettext_lazy("treated zone", "Chin")
    JAWLINE = "jawline", pgettext_lazy("treated zone", "Jawline")
    NECK = "neck", pgettext_lazy("treated zone", "Neck")
    DECOLLETAGE = "decolletage", pgettext_lazy("treated zone", "Décolletage")
    SCALP = "scalp", pgettext_lazy("treated zone", "Scalp")
    HANDS = "hands", pgettext_lazy("treated zone", "Hands")
    SCAR = "scar", pgettext_lazy("treated zone", "Scar (see notes)")


class SkinResponse(models.TextChoices):
    MILD = "mild", pgettext_lazy("skin response", "Mild redness")
    EXPECTED = (
        "expected",
        pgettext_lazy("skin response", "Even redness, pinpoint bleeding (expected end point)"),
    )
    MARKED = "marked", pgettext_lazy("skin response", "Marked redness or swelling")
    ADVERSE = "adverse", pgettext_lazy("skin response", "Adverse reaction (describe in notes)")


class TreatmentChartQuerySet(models.QuerySet):
    def current(self):
        """Charts not replaced by a correction."""
        return self.filter(superseded_at__isnull=True)

    def for_patients_and_treatments(self, patient_ids, treatment_ids):
        return self.filter(
            appointment__patient_id__in=patient_ids, appointment__treatment_id__in=treatment_ids
        )


class TreatmentChart(models.Model):
    """The clinical record of one visit. Depths per zone are `ZoneDepth` rows."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="charts")
    numbing_agent = models.CharField(max_length=100, help_text="e.g. BLT cream 20/6/4")
    numbing_applied_at = models.DateTimeField(help_text="When the numbing cream went on.")
    device = models.CharField(max_length=100, help_text="e.g. SkinPen Precision")
    cartridge_lot = models.CharField("cartridge lot number", max_length=60)
    skin_response = models.CharField(max_length=10, choices=SkinResponse.choices)
    aftercare_given = models.TextField(help_text="What the patient was given and told.")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        help_text="The chart this entry corrects.",
    )
    correction_reason = models.CharField(max_length=200, blank=True)
    superseded_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a correction replaced this chart."
    )

    objects = TreatmentChartQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            # One current chart per visit; corrections keep the older ones as superseded.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_chart_per_appointment",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="correction_has_reason",
            ),
        ]

    def __str__(self):
        return f"Chart for {self.appointment}"

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None


class ZoneDepth(models.Model):
    """The needle depth used on one zone, in millimetres."""

    chart = models.ForeignKey(TreatmentChart, on_delete=models.CASCADE, related_name="zones")
    zone = models.CharField(max_length=12, choices=Zone.choices)
    depth_mm = models.DecimalField("needle depth (mm)", max_digits=3, decimal_places=2)
    outside_bounds_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the depth is outside the protocol's bounds."
    )

    class Meta:
        ordering = ["chart", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chart", "zone"], name="one_depth_per_zone_per_chart")
        ]

    def __str__(self):
        return f"{self.get_zone_display()} {self.depth} mm"

    @property
    def depth(self) -> str:
        """The depth as a clinician writes it: 1.5, not 1.50."""
        return f"{self.depth_mm.normalize():f}"
