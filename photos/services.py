"""Writing and reading clinical photos: upload a visit's photos, mark them shareable, hand out
short-lived links, and record every look. One transaction per write, audited.

Files are written only after every upload of a batch has been read and re-encoded
(photos.images); the files and their rows are then written in one transaction, and if
anything in it fails the files already written are deleted again, so a failure leaves
neither a row without its file nor a file without its row.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from accounts.roles import is_aesthetician, is_front_desk
from booking.models import Appointment, Patient
from booking.services import BookingError
from booking.services.audit import Actor, audit, signed_in_or_none
from charts.models import Zone
from charts.services import chart_refusal
from consent import services as consent_services
from photos import images
from photos.models import Photo, PhotoView, photo_storage

__all__ = [
    "LINK_MAX_AGE",
    "PhotoLinkExpired",
    "PhotoRejected",
    "Upload",
    "link",
    "may_upload",
    "open_link",
    "record_view",
    "release_given",
    "set_shareable",
    "upload_photos",
]

LINK_MAX_AGE = 300  # seconds a photo link works: long enough to load a page, no longer
_SALT = "photos.serve"


class PhotoRejected(BookingError):
    """An upload refused: a file that is not a readable photo, or a visit that takes none."""


class PhotoLinkExpired(BookingError):
    status_code = 403


def release_given(patient: Patient) -> bool:
    """Whether `patient` agreed that their photos may be shown to them and used beyond the
    record: their latest signed photo release (consent.services.photo_release_given)."""
    return consent_services.photo_release_given(patient)


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the phone sent it (for messages only), size and bytes."""

    name: str
    size: int
    file: object  # a file-like object with read(); Django's UploadedFile fits


def may_upload(user, appointment: Appointment) -> bool:
    """The visit's own aesthetician, or the front desk, photographs a visit."""
    if is_front_desk(user):
        return True
    return is_aesthetician(user) and user.provider.pk == appointment.provider_id


def upload_photos(
    *,
    appointment: Appointment,
    zone: str,
    kind: str,
    files: Sequence[Upload],
    shareable: bool = False,
    actor: Actor,
    now: datetime,
) -> list[Photo]:
    """Store `files` as `kind` ("before"/"after") photos of `zone` at `appointment`.

    All or nothing: one unreadable file refuses the whole batch (PhotoRejected naming it)."""
    if zone not in Zone.values:
        raise PhotoRejected("Choose the zone the photos show.")
    if kind not in Photo.Kind.values:
        raise PhotoRejected("Say whether the photos are from before or after the treatment.")
    if not files:
        raise PhotoRejected("Choose at least one photo.")
    refusal = chart_refusal(appointment, now=now)
    if refusal:
        raise PhotoRejected(refusal.replace("chart", "photograph"))
    processed = []
    for upload in files:
        try:
            processed.append(images.process(upload.file, size=upload.size))  # type: ignore[arg-type]
        except images.UnreadableImage as error:
            raise PhotoRejected(f"{upload.name or 'The file'} {error}") from None
    storage = photo_storage()
    written: list[str] = []
    try:
        with transaction.atomic():
            photos = []
            for result in processed:
                stem = f"photos/{appointment.patient_id}/{uuid.uuid4().hex}"
                original = storage.save(f"{stem}.jpg", ContentFile(result.original))
                written.append(original)
                thumbnail = storage.save(f"{stem}-thumb.jpg", ContentFile(result.thumbnail))
                written.append(thumbnail)
                photos.append(
                    Photo.objects.create(
                        appointment=appointment,
                        patient_id=appointment.patient_id,
                        zone=zone,
                        kind=kind,
                        original=original,
                        thumbnail=thumbnail,
                        width=result.width,
                        height=result.height,
                        source_format=result.source_format,
                        shareable=shareable,
                        uploaded_by=signed_in_or_none(actor),
                        uploaded_at=now,
                    )
                )
            audit(
                actor=actor,
                action="photos_added",
                appointment=appointment,
                changes={"photos": [None, f"{len(photos)} {kind} {zone}"]},
                now=now,
            )
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return photos


def set_shareable(*, photo: Photo, shareable: bool, actor: Actor, now: datetime) -> Photo:
    with transaction.atomic():
        before = photo.shareable
        photo.shareable = shareable
        photo.save(update_fields=["shareable"])
        audit(
            actor=actor,
            action="photo_shared" if shareable else "photo_unshared",
            appointment=photo.appointment,
            changes={f"photo {photo.pk} shareable": [before, shareable]},
            now=now,
        )
    return photo


def link(photo: Photo, variant: str, user) -> str:
    """A URL that shows `photo` (its "original" or "thumbnail") to `user` only, for
    LINK_MAX_AGE seconds. The view still checks access when the link is opened."""
    token = signing.TimestampSigner(salt=_SALT).sign(f"{photo.pk}.{variant}.{user.pk}")
    return reverse("photos:serve", args=[token])


def open_link(token: str, user) -> tuple[int, str]:
    """(photo id, variant) of a link made for `user`. PhotoLinkExpired once it is too old;
    signing.BadSignature for a forged link or one made for somebody else."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise PhotoLinkExpired("This photo link has expired: reload the page.") from None
    pk, variant, owner = value.split(".")
    if owner != str(user.pk) or variant not in PhotoView.Variant.values:
        raise signing.BadSignature("Not a link for this account.")
    return int(pk), variant


def record_view(*, photo: Photo, variant: str, viewer: Actor, now: datetime) -> PhotoView:
    return PhotoView.objects.create(
        photo=photo, viewer=signed_in_or_none(viewer), variant=variant, at=now
    )
