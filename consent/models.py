"""Consent forms, their versions, and the signatures patients give.

A `ConsentForm` is what the owner writes in the admin (markdown text and checkboxes, one per
line). Each text a patient may see is frozen as a `ConsentFormVersion`; once a version has a
signature it never changes, and editing the form makes the next version. A
`ConsentSignature` keeps what was signed: the version, a SHA-256 of the exact text shown, the
drawn signature (PNG), who, when, from where, who witnessed it, the ticked boxes and the PDF.
Files go through Django's storage API and are only ever served by an access-checked view.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment, Patient
from photos.models import photo_storage  # the clinical files' storage (docs/photos.md)
from treatments.models import Treatment


def _file_path(instance: "ConsentSignature", kind: str, ext: str) -> str:
    # Random names: a guessed path gives nothing away, and the view checks access anyway.
    return f"consent/{instance.patient_id}/{kind}-{uuid.uuid4().hex}.{ext}"


def signature_image_path(instance: "ConsentSignature", filename: str) -> str:
    return _file_path(instance, "signature", "png")


def signature_pdf_path(instance: "ConsentSignature", filename: str) -> str:
    return _file_path(instance, "form", "pdf")


class ConsentForm(models.Model):
    """A form the clinic asks patients to sign, per treatment (or for every treatment)."""

    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_forms",
        help_text="Leave empty for a form every treatment asks for (such as a photo release).",
    )
    title = models.CharField(max_length=120)
    body = models.TextField(help_text="Markdown: paragraphs, **bold**, lists, headings.")
    checkboxes = models.TextField(
        blank=True, help_text="One statement per line; the patient ticks each they agree to."
    )
    photo_release = models.BooleanField(
        default=False,
        help_text=(
            "A photo release: optional to sign; photos may be used beyond the record only "
            "when the patient ticked every box on it."
        ),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def checkbox_lines(self) -> list[str]:
        return [line.strip() for line in self.checkboxes.splitlines() if line.strip()]


class ConsentFormVersion(models.Model):
    """One text of a form as patients see it; immutable once anyone has signed it."""

    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    body = models.TextField()
    checkboxes = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="consent_version_unique")
        ]

    def __str__(self):
        return f"{self.title} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk and self.signatures.exists():
            raise ValidationError(_("A signed consent form version cannot be changed."))
        super().save(*args, **kwargs)


class ConsentSignature(models.Model):
    """A patient's signature on one version of a form, with the PDF made of it."""

    version = models.ForeignKey(
        ConsentFormVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    # PROTECT: a signed consent is part of the medical record; the patient cannot be deleted.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    text_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the exact text shown.")
    text_shown = models.TextField(help_text="The exact text shown (sanitised HTML).")
    answers = models.JSONField(default=dict, help_text="Checkbox statement: ticked or not.")
    # Kept where the photos are: the disk under MEDIA_ROOT by default, the private, encrypted
    # S3 bucket once AWS_STORAGE_BUCKET_NAME is set; streamed only by consent.views.
    signature_image = models.FileField(upload_to=signature_image_path, storage=photo_storage)
    pdf = models.FileField(upload_to=signature_pdf_path, blank=True, storage=photo_storage)
    signed_at = models.DateTimeField(db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who watched the patient sign at the clinic.",
    )

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self):
        return f"{self.patient} signed {self.version} on {self.signed_at:%Y-%m-%d}"

    @property
    def all_ticked(self) -> bool:
        return all(self.answers.values())
