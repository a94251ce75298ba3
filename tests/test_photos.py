"""Clinical photos: uploads stripped of location data and re-encoded, refused cleanly when
they are not photos, stored through the storage API, shown only through short-lived links
to those who may see them, and laid side by side across a course."""

import contextlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from PIL import Image

from booking.models import AuditEntry
from photos import images
from photos import services as photos
from photos.models import Photo, PhotoView, photo_storage
from tests import factories
from tests.helpers import sign_in
from tests.photo_helpers import (
    GPS_IFD,
    add_photo,
    as_uploads,
    course,
    heic,
    jpeg_with_gps,
    png,
    upload,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


def stored_files(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def read(photo_field) -> Image.Image:
    with photo_storage().open(photo_field.name, "rb") as f:
        image = Image.open(io.BytesIO(f.read()))
        image.load()
    return image


# --- the image itself ---------------------------------------------------------------------


def test_gps_and_camera_exif_are_gone_from_the_original_and_the_thumbnail():
    data = jpeg_with_gps(size=(1200, 900))
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test image has GPS

    result = images.process(io.BytesIO(data), size=len(data))

    for out in (result.original, result.thumbnail):
        image = Image.open(io.BytesIO(out))
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
        assert b"PhoneCam" not in out
    assert (result.width, result.height) == (1200, 900)
    assert max(Image.open(io.BytesIO(result.thumbnail)).size) == 480


def test_the_camera_orientation_is_applied_before_the_exif_is_dropped():
    data = jpeg_with_gps(size=(60, 20), orientation=6)  # "rotate 90 CW to view"

    result = images.process(io.BytesIO(data), size=len(data))

    assert (result.width, result.height) == (20, 60)


def test_an_iphone_heic_becomes_a_jpeg():
    data = heic()

    result = images.process(io.BytesIO(data), size=len(data))

    assert result.source_format == "HEIF"
    assert Image.open(io.BytesIO(result.original)).format == "JPEG"


def test_a_png_with_transparency_is_kept_as_a_jpeg():
    data = png()

    result = images.process(io.BytesIO(data), size=len(data))

    assert result.source_format == "PNG"
    assert Image.open(io.BytesIO(result.original)).mode == "RGB"


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 300), 50).convert("RGB").save(out, format="JPEG")
    return out.getvalue()[: len(out.getvalue()) // 2]  # a header, then half the pixels


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 not a photo", "is not a photo we can read"),
        (b"", "is empty"),
        (truncated_jpeg(), "could not be read to the end"),
    ],
)
def test_what_is_not_a_readable_photo_is_refused_with_a_reason(data, message):
    with pytest.raises(images.UnreadableImage, match=message):
        images.process(io.BytesIO(data), size=len(data))


def test_the_type_comes_from_the_bytes_not_the_name():
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(images.UnreadableImage, match="JPEG, PNG or HEIC"):
        images.process(io.BytesIO(gif.getvalue()), size=len(gif.getvalue()))


def test_size_and_pixel_limits():
    data = jpeg_with_gps(size=(200, 100))
    with pytest.raises(images.UnreadableImage, match="the limit is 1 MB"):
        images.process(io.BytesIO(data), size=2 * 1024 * 1024, max_bytes=1024 * 1024)
    with pytest.raises(images.UnreadableImage, match="200 x 100 pixels"):
        images.process(io.BytesIO(data), size=len(data), max_pixels=10_000)


# --- storing ------------------------------------------------------------------------------


@pytest.fixture
def plan_and_visits(clinic, patient):
    return course(clinic, patient, sessions=2)


@pytest.fixture
def visit(plan_and_visits):
    return plan_and_visits[1][0]


def test_an_upload_stores_original_and_thumbnail_and_audits_it(visit, media):
    photo = add_photo(visit, kind="before")

    assert photo.patient == visit.patient
    assert photo.original.name.startswith(f"photos/{visit.patient_id}/")
    assert visit.patient.last_name not in photo.original.name
    assert len(stored_files(media)) == 2
    assert read(photo.original).size == (64, 48)
    assert dict(read(photo.original).getexif()) == {}
    entry = AuditEntry.objects.get(action="photos_added")
    assert entry.appointment == visit
    assert entry.actor == visit.provider.user


def test_one_bad_file_refuses_the_batch_and_writes_nothing(visit, media):
    files = as_uploads(upload(jpeg_with_gps()), upload(b"not an image", name="notes.jpg"))

    with pytest.raises(photos.PhotoRejected, match="notes.jpg is not a photo we can read"):
        photos.upload_photos(
            appointment=visit,
            zone="forehead",
            kind="after",
            files=files,
            actor=None,
            now=visit.start,
        )

    assert Photo.objects.count() == 0
    assert stored_files(media) == []


def test_a_failure_while_writing_rows_deletes_the_files_already_written(visit, media, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(photos, "audit", broken)
    with pytest.raises(RuntimeError):
        add_photo(visit)

    assert Photo.objects.count() == 0
    assert stored_files(media) == []


def test_a_cancelled_visit_takes_no_photos(clinic, patient):
    from booking import services as booking
    from tests.helpers import at
    from tests.test_chart import MONDAY, book_visit

    cancelled = book_visit(clinic, patient, at(MONDAY, 10))
    cancelled = booking.cancel_appointment(appointment=cancelled, now=at(MONDAY, 8), staff=True)
    with pytest.raises(photos.PhotoRejected, match="cancelled"):
        add_photo(cancelled, now=at(MONDAY, 11))


# --- the upload page ----------------------------------------------------------------------


def test_the_aesthetician_uploads_several_photos_from_the_phone_form(client, visit, media):
    sign_in(client, visit.provider.user)
    url = reverse("photos:visit", args=[visit.pk])
    page = client.get(url).content.decode()
    assert 'capture="environment"' in page
    assert 'accept="image/*"' in page
    assert "multiple" in page

    with time_machine.travel(visit.start + timedelta(hours=1)):
        response = client.post(
            url,
            {
                "zone": "cheeks",
                "kind": "after",
                "photos": [upload(jpeg_with_gps(), "a.jpg"), upload(heic(), "b.HEIC")],
            },
            follow=True,
        )

    assert "2 photos saved." in response.content.decode()
    assert list(Photo.objects.values_list("zone", "kind", "source_format")) == [
        ("cheeks", "after", "JPEG"),
        ("cheeks", "after", "HEIF"),
    ]


def test_an_unreadable_upload_is_a_form_error_not_a_500(client, visit, media):
    sign_in(client, visit.provider.user)
    with time_machine.travel(visit.start + timedelta(hours=1)):
        response = client.post(
            reverse("photos:visit", args=[visit.pk]),
            {"zone": "cheeks", "kind": "after", "photos": [upload(b"GIF89a....", "x.jpg")]},
        )

    assert response.status_code == 400
    assert "x.jpg is not a photo we can read" in response.content.decode()
    assert stored_files(media) == []


def test_another_aesthetician_cannot_upload_to_a_visit(client, visit, clinic):
    other = factories.ProviderFactory(locations=[clinic["location"]])
    sign_in(client, other.user)
    response = client.post(
        reverse("photos:visit", args=[visit.pk]),
        {"zone": "cheeks", "kind": "after", "photos": [upload(jpeg_with_gps())]},
    )
    assert response.status_code == 404
    assert Photo.objects.count() == 0


# --- serving ------------------------------------------------------------------------------


def test_a_photo_link_serves_the_jpeg_privately_and_records_the_view(client, visit):
    photo = add_photo(visit)
    user = visit.provider.user
    sign_in(client, user)

    response = client.get(photos.link(photo, "original", user))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert Image.open(io.BytesIO(body)).size == (64, 48)
    assert list(PhotoView.objects.values_list("photo", "viewer", "variant")) == [
        (photo.pk, user.pk, "original")
    ]


def test_a_link_stops_working_after_five_minutes(client, visit):
    photo = add_photo(visit)
    user = visit.provider.user
    sign_in(client, user)
    with time_machine.travel(visit.start, tick=False):
        url = photos.link(photo, "thumbnail", user)
    with time_machine.travel(visit.start + timedelta(seconds=photos.LINK_MAX_AGE + 1)):
        response = client.get(url)

    assert response.status_code == 403
    assert "expired" in response.content.decode()
    assert PhotoView.objects.count() == 0


def test_a_link_made_for_someone_else_or_tampered_with_is_not_found(client, visit, front_desk):
    photo = add_photo(visit)
    sign_in(client, front_desk)
    others = photos.link(photo, "original", visit.provider.user)

    assert client.get(others).status_code == 404
    assert client.get(photos.link(photo, "original", front_desk)[:-3] + "xx/").status_code == 404
    assert client.get(reverse("photos:serve", args=[f"{photo.pk}"])).status_code == 404


def test_media_has_no_public_url(client, visit):
    photo = add_photo(visit)
    assert client.get(f"/media/{photo.original.name}").status_code == 404


# --- progress -----------------------------------------------------------------------------


def test_progress_lays_a_zone_side_by_side_with_depths_and_notes(client, plan_and_visits):
    plan, (first, second) = plan_and_visits
    add_photo(first, kind="before")
    add_photo(second, kind="after")
    sign_in(client, first.provider.user)

    page = client.get(reverse("photos:plan_progress", args=[plan.pk])).content.decode()

    assert "Session 1 before, Jan 4, 2027" in page
    assert "Session 2 after, Feb 1, 2027" in page
    assert "1.25 mm" in page and "1.5 mm" in page  # forehead depth at session 1 and 2
    assert page.count('class="figure mb-1 photo"') == 4  # the pair, then each in its row


def test_progress_costs_the_same_queries_for_more_sessions_and_photos(
    client, clinic, django_assert_max_num_queries
):
    def queries_for(sessions):
        patient = factories.PatientFactory()
        plan, visits = course(clinic, patient, sessions=sessions)
        for visit in visits:
            for zone in ("forehead", "cheeks"):
                add_photo(visit, zone=zone, kind="before")
                add_photo(visit, zone=zone, kind="after")
        sign_in(client, factories.UserFactory(groups=["Front desk"]))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("photos:plan_progress", args=[plan.pk])).status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(3)


def test_the_patient_sees_only_shareable_photos_of_their_own_course(client, plan_and_visits):
    plan, (first, second) = plan_and_visits
    shared = add_photo(first, kind="before", shareable=True)
    add_photo(second, kind="after", shareable=False)
    sign_in(client, first.patient.user)

    page = client.get(reverse("photos:my_progress", args=[plan.pk])).content.decode()

    assert page.count('class="figure mb-1 photo"') == 1
    assert shared.original.name not in page  # links are signed tokens, never storage paths
    assert "Aftercare" not in page  # no chart notes for the patient
    other = factories.PatientFactory()
    sign_in(client, other.user)
    assert client.get(reverse("photos:my_progress", args=[plan.pk])).status_code == 404


def test_the_photo_release_is_shown_to_staff_and_is_the_consent_apps(
    client, plan_and_visits, front_desk, now
):
    from tests.consent_helpers import consent_form, sign_version

    plan, (first, _) = plan_and_visits
    add_photo(first, shareable=True)
    sign_in(client, front_desk)
    url = reverse("photos:visit", args=[first.pk])
    assert photos.release_given(first.patient) is False
    assert "No photo release" in client.get(url).content.decode()
    release = consent_form(
        None,
        now=now,
        title="Photo release",
        checkboxes="My photos may be used.",
        photo_release=True,
    )
    sign_version(release, first.patient, now=now)
    assert photos.release_given(first.patient) is True
    assert "Photo release signed" in client.get(url).content.decode()


# --- export -------------------------------------------------------------------------------


def test_the_desk_exports_the_whole_record_as_a_zip_and_it_is_audited(
    client, plan_and_visits, front_desk
):
    plan, (first, second) = plan_and_visits
    add_photo(first, kind="before")
    add_photo(second, kind="after", zone="cheeks")
    sign_in(client, front_desk)
    url = reverse("photos:export", args=[first.patient_id])

    assert client.get(url).status_code == 405  # a POST, with its CSRF token
    response = client.post(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert "README.txt" in names and "record.json" in names
    photo_names = sorted(n for n in names if n.startswith("photos/"))
    assert len(photo_names) == 2
    assert photo_names[0].startswith("photos/2027-01-04_forehead_before_")
    record = json.loads(archive.read("record.json"))
    assert [v["session"] for v in record["visits"]] == [1, 2]
    assert {z["zone"] for z in record["charts"][0]["zones"]} == {"forehead", "cheeks"}
    assert AuditEntry.objects.filter(action="record_exported", actor=front_desk).count() == 1
    assert PhotoView.objects.filter(variant="export").count() == 2


def test_only_the_desk_exports(client, visit):
    sign_in(client, visit.provider.user)
    assert client.post(reverse("photos:export", args=[visit.patient_id])).status_code == 403
    assert not AuditEntry.objects.filter(action="record_exported").exists()


def test_photo_pages_and_the_export_are_never_cached(client, plan_and_visits, front_desk):
    plan, (first, _) = plan_and_visits
    add_photo(first, shareable=True)
    sign_in(client, front_desk)
    responses = [
        client.get(reverse("photos:visit", args=[first.pk])),
        client.get(reverse("photos:plan_progress", args=[plan.pk])),
        client.post(reverse("photos:export", args=[first.patient_id])),
    ]
    sign_in(client, first.patient.user)
    responses.append(client.get(reverse("photos:my_progress", args=[plan.pk])))

    for response in responses:
        assert response.status_code == 200
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives


def test_a_consent_pdf_made_earlier_does_not_let_a_truncated_photo_through():
    """weasyprint turns Pillow's LOAD_TRUNCATED_IMAGES on when imported (consent PDFs)."""
    from PIL import ImageFile

    from consent.services import pdf_document

    with contextlib.suppress(Exception):  # only weasyprint's import matters here
        pdf_document(None, b"")  # type: ignore[arg-type]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(images.UnreadableImage, match="could not be read to the end"):
        data = truncated_jpeg()
        images.process(io.BytesIO(data), size=len(data))
