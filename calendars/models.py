"""A private calendar subscription: one secret URL per aesthetician or patient.

Only a SHA-256 of the token is stored, so the database alone cannot rebuild a feed's URL; the
URL is shown once, when it is made. Making a new one replaces the row's hash, so the old URL
stops working at once (404).
"""

from django.db import models
from django.db.models import Q

from booking.models import Patient, Provider


class CalendarFeed(models.Model):
    """The subscription of exactly one patient or one aesthetician."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar_feed"
    )
    provider = models.OneToOneField(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=True, provider__isnull=False)
                | Q(patient__isnull=False, provider__isnull=True),
                name="calendar_feed_one_owner",
            )
        ]

    def __str__(self):
        return f"Calendar feed of {self.patient or self.provider}"
