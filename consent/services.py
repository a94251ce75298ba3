"""Consent: publishing a form's text as a version, signing it, and reading who signed what.

The one rule other apps meet: a visit is completed with a valid consent (a signature on the
current version of every required form of its treatment) or with a reason, which is recorded
(`on_completed`, connected to booking.events.appointment_completed, so every door that
completes a visit goes through it). Photos read `photo_release_given`; the record export
reads `signed_forms_for`.
"""

import base64
import binascii
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import markdown
import nh3
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from booking import services
from booking.models import Appointment, Patient
from booking.services.audit import Actor
from booking.services.errors import BookingError
from consent.models import ConsentForm, ConsentFormVersion, ConsentSignature

__all__ = [
    "ConsentMissing",
    "ConsentStatus",
    "InvalidSignature",
    "photo_release_given",
    "publish",
    "render_version",
    "required_versions",
    "sign",
    "signed_forms_for",
    "status_for",
    "statuses_for",
]

MAX_SIGNATURE_BYTES = 300 * 1024
MAX_SIGNATURE_PIXELS = (3000, 1500)
DATA_URL_PREFIX = "data:image/png;base64,"


class ConsentMissing(BookingError):
    """A visit completed without a valid consent and without a reason."""

    status_code = 409


class InvalidSignature(BookingError):
    """A signature that cannot be kept: not a PNG, too big, blank, or on an old text."""


# --- the text ----------------------------------------------------------------------------


def render_markdown(text: str) -> str:
    """The owner's markdown as HTML with only harmless tags (no script, no event handlers)."""
    return nh3.clean(markdown.markdown(text, extensions=["sane_lists"]))


def render_version(version: ConsentFormVersion) -> str:
    """The exact HTML a patient reads for `version`: title, text and the checkbox statements.
    Its SHA-256 is kept with each signature."""
    return render_to_string(
        "consent/_text.html",
        {
            "title": version.title,
            "body": render_markdown(version.body),
            "checkboxes": version.checkboxes,
        },
    ).strip()


def text_sha256(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


@transaction.atomic
def publish(form: ConsentForm, *, now: datetime, actor: Actor = None) -> ConsentFormVersion:
    """The version patients sign from now on for `form`. A new version when the text changed
    and the latest was signed; the latest updated in place when nobody has signed it yet."""
    form = ConsentForm.objects.select_for_update().get(pk=form.pk)
    latest = form.versions.order_by("-number").first()
    text = {"title": form.title, "body": form.body, "checkboxes": form.checkbox_lines}
    if latest is not None:
        if {k: getattr(latest, k) for k in text} == text:
            return latest
        if not latest.signatures.exists():
            for key, value in text.items():
                setattr(latest, key, value)
            latest.save()
            return latest
    version = ConsentFormVersion.objects.create(
        form=form, number=(latest.number + 1 if latest else 1), created_at=now, **text
    )
    services.audit(
        actor=actor,
        action="consent_form_version",
        changes={"form": form.pk, "version": [latest.number if latest else None, version.number]},
        now=now,
    )
    return version


def _forms_for(treatment_ids: Iterable[int]) -> Q:
    return Q(form__active=True) & (
        Q(form__treatment_id__in=list(treatment_ids)) | Q(form__treatment__isnull=True)
    )


def _current_versions(treatment_ids: Iterable[int]) -> list[ConsentFormVersion]:
    """The latest version of every active form for these treatments (one query)."""
    versions = (
        ConsentFormVersion.objects.filter(_forms_for(treatment_ids))
        .select_related("form")
        .order_by("form_id", "-number")
    )
    latest: dict[int, ConsentFormVersion] = {}
    for version in versions:
        latest.setdefault(version.form_id, version)
    return sorted(latest.values(), key=lambda v: (v.form.photo_release, v.title))


def versions_to_sign(appointment: Appointment) -> list[ConsentFormVersion]:
    """Every current form version offered for this visit (required first, photo release after)."""
    return _current_versions([appointment.treatment_id])


def required_versions(appointment: Appointment) -> list[ConsentFormVersion]:
    return [v for v in versions_to_sign(appointment) if not v.form.photo_release]


# --- the status on My day and the chart ------------------------------------------------------


@dataclass(frozen=True)
class ConsentStatus:
    """Whether a visit has the consent it needs. `missing` lists the form titles (with the
    version asked for) not signed; `signed` the signatures that count."""

    required: int
    signed: tuple[ConsentSignature, ...]
    missing: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.missing

    def label(self, tz: ZoneInfo) -> str:
        if self.missing:
            return _("Consent missing")
        if not self.signed:
            return _("No consent needed")
        latest = max(self.signed, key=lambda s: s.signed_at)
        when = latest.signed_at.astimezone(tz)
        return _("Consent signed (v%(number)s, %(day)s)") % {
            "number": latest.version.number,
            "day": f"{when:%-d %b}",
        }


def statuses_for(appointments: Iterable[Appointment]) -> dict[int, ConsentStatus]:
    """{appointment id: ConsentStatus} for a list of visits, in two queries whatever their
    number. A signature counts for a visit when it is on the form's current version."""
    appointments = list(appointments)
    if not appointments:
        return {}
    current = _current_versions({a.treatment_id for a in appointments})
    signatures: dict[tuple[int, int], ConsentSignature] = {}
    if current:
        for signature in ConsentSignature.objects.filter(
            patient_id__in={a.patient_id for a in appointments},
            version_id__in=[v.pk for v in current],
        ).select_related("version"):
            key = (signature.patient_id, signature.version_id)
            if key not in signatures or signature.signed_at > signatures[key].signed_at:
                signatures[key] = signature
    result = {}
    for appointment in appointments:
        required = [
            v
            for v in current
            if not v.form.photo_release and v.form.treatment_id in (None, appointment.treatment_id)
        ]
        signed = [
            signatures[appointment.patient_id, v.pk]
            for v in required
            if (appointment.patient_id, v.pk) in signatures
        ]
        missing = [
            f"{v.title} (v{v.number})"
            for v in required
            if (appointment.patient_id, v.pk) not in signatures
        ]
        result[appointment.pk] = ConsentStatus(len(required), tuple(signed), tuple(missing))
    return result


def status_for(appointment: Appointment) -> ConsentStatus:
    return statuses_for([appointment])[appointment.pk]


# --- signing -------------------------------------------------------------------------------


def read_signature(data_url: str) -> bytes:
    """The PNG bytes of a signature_pad data URL, checked with Pillow; InvalidSignature with a
    message a person can act on otherwise."""
    if not data_url:
        raise InvalidSignature(_("Please sign in the box."))
    if not data_url.startswith(DATA_URL_PREFIX):
        raise InvalidSignature(_("The signature must be a PNG image."))
    encoded = data_url[len(DATA_URL_PREFIX) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise InvalidSignature(_("The signature image is too large."))
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(_("The signature could not be read; please sign again.")) from None
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                raise InvalidSignature(_("The signature must be a PNG image."))
            width, height = image.size
            if width > MAX_SIGNATURE_PIXELS[0] or height > MAX_SIGNATURE_PIXELS[1]:
                raise InvalidSignature(_("The signature image is too large."))
            image.load()
            if image.convert("RGBA").getchannel("A").getbbox() is None:
                raise InvalidSignature(_("Please sign in the box."))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidSignature(_("The signature could not be read; please sign again.")) from None
    return png


def _zone(appointment: Appointment | None) -> ZoneInfo:
    if appointment is not None:
        return appointment.location.zone
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


PDF_STYLESHEET = Path(__file__).with_name("pdf.css")


def pdf_document(signature: ConsentSignature, png: bytes):
    """The laid-out pages of `signature`'s PDF (a weasyprint Document)."""
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    from weasyprint import CSS, HTML  # slow import; only signing needs it

    # Importing weasyprint turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process,
    # which would let a half-uploaded photo through photos.images: put it back.
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated

    return HTML(string=pdf_html(signature, png)).render(
        stylesheets=[CSS(filename=str(PDF_STYLESHEET))]
    )


def render_pdf(signature: ConsentSignature, png: bytes) -> bytes:
    """The printable record of `signature`: the text signed, the answers, the signature, the
    time (in the location's zone), the IP and the witness."""
    return pdf_document(signature, png).write_pdf()


def pdf_html(signature: ConsentSignature, png: bytes) -> str:
    tz = _zone(signature.appointment)
    return render_to_string(
        "consent/pdf.html",
        {
            "signature": signature,
            "text": signature.text_shown,
            "signed_at": f"{signature.signed_at.astimezone(tz):%Y-%m-%d %H:%M}",
            "zone": str(tz),
            "image": "data:image/png;base64," + base64.b64encode(png).decode(),
            "witness": signature.witnessed_by.get_full_name() or signature.witnessed_by.username
            if signature.witnessed_by
            else "",
        },
    )


@transaction.atomic
def sign(
    *,
    version: ConsentFormVersion,
    patient: Patient,
    shown_sha256: str,
    signature_data_url: str,
    ticked: Iterable[str],
    now: datetime,
    appointment: Appointment | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    actor: Actor = None,
    witness: Actor = None,
) -> ConsentSignature:
    """Keep `patient`'s signature on `version`. `shown_sha256` is the hash of the text the page
    showed: a form changed meanwhile is refused, so nobody signs a text they did not read."""
    version = ConsentFormVersion.objects.select_related("form").get(pk=version.pk)
    latest = version.form.versions.order_by("-number").values_list("pk", flat=True).first()
    if latest != version.pk or not version.form.active:
        raise InvalidSignature(_("This form has changed; please read the new version and sign."))
    text = render_version(version)
    if shown_sha256 != text_sha256(text):
        raise InvalidSignature(_("This form has changed; please read the new version and sign."))
    if appointment is not None and appointment.patient_id != patient.pk:
        raise BookingError(_("This visit is another patient's."))
    png = read_signature(signature_data_url)
    ticked = set(ticked)
    unknown = ticked - set(version.checkboxes)
    if unknown:
        raise InvalidSignature(_("Only the form's own statements can be ticked."))
    signature = ConsentSignature(
        version=version,
        patient=patient,
        appointment=appointment,
        text_sha256=text_sha256(text),
        text_shown=text,
        answers={line: line in ticked for line in version.checkboxes},
        signed_at=now,
        ip_address=ip_address,
        user_agent=user_agent[:400],
        signed_by=None if witness else services.signed_in_or_none(actor),
        witnessed_by=services.signed_in_or_none(witness),
    )
    pdf = render_pdf(signature, png)  # before any file is written
    try:
        signature.signature_image.save("signature.png", ContentFile(png), save=False)
        signature.pdf.save("form.pdf", ContentFile(pdf), save=False)
        signature.save()
        services.audit(
            actor=actor,
            action="consent_signed",
            patient=patient,
            appointment=appointment,
            changes={
                "form": version.form_id,
                "version": version.number,
                "witness": signature.witnessed_by_id,
            },
            now=now,
        )
    except Exception:
        signature.signature_image.delete(save=False)
        signature.pdf.delete(save=False)
        raise
    return signature


# --- what other apps read -----------------------------------------------------------------


def signed_forms_for(patient: Patient) -> QuerySet[ConsentSignature]:
    """Every consent the patient signed, newest first, with version and form; each has `.pdf`
    (a storage file: open it with `signature.pdf.open("rb")`)."""
    return ConsentSignature.objects.filter(patient=patient).select_related(
        "version__form", "appointment__location", "witnessed_by"
    )


def photo_release_given(patient: Patient) -> bool:
    """Whether photos of `patient` may be used beyond the medical record: their latest
    signature on a photo-release form ticks every box on it. Signing again without the boxes
    withdraws it."""
    latest = (
        ConsentSignature.objects.filter(patient=patient, version__form__photo_release=True)
        .order_by("-signed_at")
        .first()
    )
    return latest is not None and latest.all_ticked


# --- the completion rule -------------------------------------------------------------------


def check_completion(
    appointment: Appointment, *, reason: str, now: datetime, actor: Actor = None
) -> None:
    """Refuse to complete a visit with no valid consent unless staff say why; the reason is
    recorded in the audit trail."""
    status = status_for(appointment)
    if status.valid:
        return
    if not reason.strip():
        raise ConsentMissing(
            _(
                "Consent missing: %(forms)s not signed. Have the patient sign it, or give a "
                "reason to complete the visit without it."
            )
            % {"forms": ", ".join(status.missing)}
        )
    services.audit(
        actor=actor,
        action="completed_without_consent",
        appointment=appointment,
        reason=reason.strip()[:200],
        changes={"missing": list(status.missing)},
        now=now,
    )


def on_completed(
    sender, *, appointment: Appointment, now: datetime, reason: str = "", actor=None, **kwargs
) -> None:
    check_completion(appointment, reason=reason, now=now, actor=actor)
