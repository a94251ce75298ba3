"""Test images made with Pillow, and the clinic's photo fixtures' building blocks."""

import io
from datetime import date

import pillow_heif
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, TiffImagePlugin

from booking.models import TreatmentPlan
from photos import services as photos
from tests.helpers import at
from tests.test_chart import book_visit, chart

GPS_IFD = 0x8825


def jpeg_with_gps(size=(64, 48), color=(200, 120, 90), orientation: int | None = None) -> bytes:
    """A JPEG whose EXIF names a camera and a GPS position (Atlanta)."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneCam 12"  # Model
    if orientation:
        exif[0x0112] = orientation
    exif[GPS_IFD] = {
        1: "N",
        2: (TiffImagePlugin.IFDRational(33), TiffImagePlugin.IFDRational(45), 0),
        3: "W",
        4: (TiffImagePlugin.IFDRational(84), TiffImagePlugin.IFDRational(23), 0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size=(40, 30), color=(10, 200, 10, 128)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="PNG")
    return out.getvalue()


def heic(size=(64, 48), color=(90, 90, 220)) -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", size, color)).save(out, quality=80)
    return out.getvalue()


def upload(data: bytes, name="IMG_0001.JPG", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def as_uploads(*files: SimpleUploadedFile) -> list[photos.Upload]:
    return [photos.Upload(name=f.name, size=f.size, file=f) for f in files]


MONDAY = date(2027, 3, 1)


def course(clinic, patient, sessions=2):
    """A plan with `sessions` charted visits four weeks apart (Mon Jan 4, Feb 1, ...)."""
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=max(sessions, 3),
        first_date=date(2027, 1, 4),
    )
    visits = []
    for number in range(1, sessions + 1):
        day = date.fromordinal(date(2027, 1, 4).toordinal() + 28 * (number - 1))
        visit = book_visit(clinic, patient, at(day, 10), plan=plan, session_number=number)
        chart(visit, at(day, 12), forehead=1.0 + number / 4, cheeks=1.5)
        visits.append(visit)
    return plan, visits


def add_photo(visit, *, zone="forehead", kind="before", shareable=False, now=None, data=None):
    return photos.upload_photos(
        appointment=visit,
        zone=zone,
        kind=kind,
        files=as_uploads(upload(data or jpeg_with_gps())),
        shareable=shareable,
        actor=visit.provider.user,
        now=now or visit.start,
    )[0]
