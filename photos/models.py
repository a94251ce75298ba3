"""Before and after photos of a visit, per treated zone, and who looked at them.

The files live in the "photos" storage (settings.STORAGES: the file system under MEDIA_ROOT,
or a private encrypted S3 bucket) under names that carry no patient name; they are read only
through photos.views.serve, which checks access and records a PhotoView.
"""

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from booking.models import Appointment, Patient
from charts.models import Zone


def photo_storage():
    """The storage the photos live in (a callable, so tests and settings can swap it)."""
    return storages["photos"]


class PhotoQuerySet(models.QuerySet):
    def shareable(self):
        return self.filter(shareable=True)

    def for_plan(self, plan):
        return self.filter(appointment__plan=plan)


class Photo(models.Model):
    """One photo of one zone at one visit, before or after treatment.

    `original` is the full-resolution JPEG re-encoded from the upload with every bit of
    metadata (EXIF, GPS) dropped and the orientation applied; the uploaded bytes are not kept.
    """

    class Kind(models.TextChoices):
        BEFORE = "before", pgettext_lazy("photo kind", "Before")
        AFTER = "after", pgettext_lazy("photo kind", "After")

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="photos")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photos")
    zone = models.CharField(max_length=12, choices=Zone.choices)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    original = models.FileField(storage=photo_storage, max_length=200)
    thumbnail = models.FileField(storage=photo_storage, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_format = models.CharField(max_length=10, help_text="What was uploaded, e.g. HEIF.")
    shareable = models.BooleanField(
        default=False,
        help_text="May be shown to the patient and used beyond the record (staff decide, "
        "with the patient's photo release).",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["appointment__start", "zone", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["before", "after"]), name="photo_kind_is_before_or_after"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.get_zone_display()} ({self.appointment_id})"


class PhotoView(models.Model):
    """Someone opened a photo (its full size or its thumbnail)."""

    class Variant(models.TextChoices):
        ORIGINAL = "original", pgettext_lazy("photo view", "Original")
        THUMBNAIL = "thumbnail", pgettext_lazy("photo view", "Thumbnail")
        EXPORT = "export", pgettext_lazy("photo view", "In a record export")

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    variant = models.CharField(max_length=10, choices=Variant.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.viewer} viewed {self.photo_id} ({self.variant}) at {self.at:%Y-%m-%d %H:%M}"
