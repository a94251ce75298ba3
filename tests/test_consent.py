"""Consent forms: versions, signing (online and witnessed), the PDF, the status staff see, the
rule that a visit is completed with a consent or a reason, and who may open what."""

import base64
from datetime import date, timedelta

import pytest
import time_machine
from django.db.models import ProtectedError
from django.urls import reverse

from booking import services as booking_services
from booking.models import Appointment, AuditEntry
from consent import services
from consent.models import ConsentForm, ConsentSignature
from tests import factories
from tests.consent_helpers import (
    consent_form,
    drawn_signature,
    laid_out_text,
    pdf_text,
    sign_version,
)
from tests.helpers import at, book, sign_in
from tests.test_api import client_for

WEDNESDAY = date(2027, 3, 3)


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    # Sessions made at the real time must still be valid at the frozen 2027 times.
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def owner_client(client, db):
    owner = factories.UserFactory(username="owner", is_staff=True, is_superuser=True)
    return sign_in(client, owner)


@pytest.fixture
def version(treatment, now):
    return consent_form(treatment, now=now)


@pytest.fixture
def visit(clinic, patient, now):
    return book(clinic, patient, at(WEDNESDAY, 10), now, staff=True)


# --- the text and its versions ---------------------------------------------------------------


def test_markdown_is_rendered_and_scripts_are_dropped(treatment, now):
    version = consent_form(
        treatment, now=now, body='**Risks**: <script>alert(1)</script><a href="x" onclick="y">z</a>'
    )
    html = services.render_version(version)
    assert "<strong>Risks</strong>" in html
    assert "<script" not in html and "onclick" not in html
    assert "<li>I am not pregnant.</li>" in html


def test_editing_an_unsigned_form_keeps_its_version_and_a_signed_one_makes_the_next(
    version, patient, now
):
    form = version.form
    form.body = "Typo fixed before anyone signed."
    form.save()
    assert services.publish(form, now=now).number == 1
    version.refresh_from_db()

    sign_version(version, patient, now=now)
    form.body = "New risks listed."
    form.save()
    v2 = services.publish(form, now=now)

    assert v2.number == 2 and v2.body == "New risks listed."
    version.refresh_from_db()
    assert version.body == "Typo fixed before anyone signed."
    assert services.publish(form, now=now) == v2  # unchanged text: no new version


def test_a_signed_version_cannot_be_changed(version, patient, now):
    sign_version(version, patient, now=now)
    version.body = "Something else"
    with pytest.raises(Exception, match="cannot be changed"):
        version.save()


def test_the_admin_publishes_a_new_version_when_the_text_changes(
    owner_client, version, patient, now
):
    sign_version(version, patient, now=now)
    form = version.form
    response = owner_client.post(
        reverse("admin:consent_consentform_change", args=[form.pk]),
        {
            "treatment": form.treatment_id,
            "title": form.title,
            "body": "Longer text now.",
            "checkboxes": "I have read the aftercare.",
            "active": "on",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": version.pk,
            "versions-0-form": form.pk,
        },
        follow=True,
    )
    assert "Patients now sign version 2." in response.text
    assert list(form.versions.values_list("number", flat=True)) == [2, 1]


# --- signing ----------------------------------------------------------------------------------


def test_a_signature_keeps_the_hash_of_the_text_the_image_and_a_pdf(version, visit, now):
    signature = sign_version(version, visit.patient, now=now, appointment=visit)

    text = services.render_version(version)
    assert signature.text_shown == text
    assert signature.text_sha256 == services.text_sha256(text)
    assert signature.answers == {"I have read the aftercare.": True, "I am not pregnant.": True}
    assert signature.signature_image.read().startswith(b"\x89PNG")
    assert signature.ip_address == "203.0.113.7" and signature.user_agent == "TestBrowser/1.0"
    assert AuditEntry.objects.filter(action="consent_signed", patient=visit.patient).exists()


def test_the_pdf_names_the_patient_the_version_and_the_answers(version, visit, now, front_desk):
    signature = sign_version(
        version,
        visit.patient,
        now=now,
        appointment=visit,
        witness=front_desk,
        ticked=["I have read the aftercare."],
    )
    pdf = signature.pdf.read()
    assert pdf.startswith(b"%PDF")
    title = f"Microneedling consent v1: {visit.patient.full_name}".encode()
    assert title in pdf_text(pdf)

    png = base64.b64decode(drawn_signature().split(",", 1)[1])
    text = laid_out_text(signature, png)
    assert visit.patient.full_name in text
    assert "Form version 1" in text
    assert "[x] Agreed: I have read the aftercare." in text
    assert "[ ] Not agreed: I am not pregnant." in text
    assert "2027-03-01 08:00 (America/New_York)" in text  # shown in the location's zone
    assert "203.0.113.7" in text
    assert front_desk.get_full_name() in text


@pytest.mark.parametrize(
    ("data_url", "message"),
    [
        ("", "Please sign in the box."),
        ("data:image/jpeg;base64,AAAA", "must be a PNG"),
        ("data:image/png;base64,not base64!!", "could not be read"),
        ("data:image/png;base64," + base64.b64encode(b"GIF89a....").decode(), "could not be read"),
        (drawn_signature(blank=True), "Please sign in the box."),
        (drawn_signature(fmt="JPEG"), "must be a PNG"),
        (drawn_signature(size=(4000, 200)), "too large"),
        ("data:image/png;base64," + "A" * 500_000, "too large"),
    ],
)
def test_a_bad_signature_is_refused_with_a_reason_and_nothing_is_stored(
    version, visit, now, media_root, data_url, message
):
    with pytest.raises(services.InvalidSignature, match=message):
        services.sign(
            version=version,
            patient=visit.patient,
            appointment=visit,
            shown_sha256=services.text_sha256(services.render_version(version)),
            signature_data_url=data_url,
            ticked=[],
            now=now,
        )
    assert not ConsentSignature.objects.exists()
    assert not any(media_root.rglob("*.png"))


def test_a_form_changed_while_the_patient_read_it_is_not_signed(version, visit, now):
    shown = services.text_sha256(services.render_version(version))
    version.form.body = "Changed meanwhile."
    version.form.save()
    services.publish(version.form, now=now)  # unsigned: v1 updated in place

    with pytest.raises(services.InvalidSignature, match="has changed"):
        services.sign(
            version=version,
            patient=visit.patient,
            appointment=visit,
            shown_sha256=shown,
            signature_data_url=drawn_signature(),
            ticked=[],
            now=now,
        )


# --- the status, and the next visit asking again ----------------------------------------------


def test_a_new_version_makes_the_next_visit_ask_again(version, visit, clinic, now):
    assert services.status_for(visit).label(visit.location.zone) == "Consent missing"
    sign_version(version, visit.patient, now=now, appointment=visit)
    status = services.status_for(visit)
    assert status.valid
    assert status.label(visit.location.zone) == "Consent signed (v1, 1 Mar)"

    version.form.body = "Now with new risks."
    version.form.save()
    services.publish(version.form, now=now)
    later = book(clinic, visit.patient, at(WEDNESDAY + timedelta(days=35), 10), now, staff=True)

    status = services.status_for(later)
    assert not status.valid
    assert status.missing == ("Microneedling consent (v2)",)


def test_a_treatment_without_a_form_needs_no_consent(visit):
    assert services.status_for(visit).valid


def test_a_photo_release_is_optional_and_decides_beyond_record_use(treatment, visit, now):
    release = ConsentForm.objects.create(
        title="Photo release",
        body="Photos may be used in our gallery.",
        checkboxes="You may show my photos outside my record.",
        photo_release=True,
    )
    v = services.publish(release, now=now)
    assert services.status_for(visit).valid  # optional: not required to complete
    assert not services.photo_release_given(visit.patient)

    sign_version(v, visit.patient, now=now)
    assert services.photo_release_given(visit.patient)
    sign_version(v, visit.patient, now=now + timedelta(days=1), ticked=[])  # withdrawn
    assert not services.photo_release_given(visit.patient)
    assert services.signed_forms_for(visit.patient).count() == 2


# --- completing a visit -----------------------------------------------------------------------


@pytest.fixture
def desk_client(client, front_desk):
    return sign_in(client, front_desk)


def _complete_at_desk(desk_client, visit, reason=""):
    with time_machine.travel(at(WEDNESDAY, 11), tick=False):
        return desk_client.post(
            reverse("desk:appointment_status", args=[visit.pk]),
            {"status": "completed", "reason": reason},
            follow=True,
        )


def test_the_desk_cannot_complete_a_visit_without_consent_or_a_reason(desk_client, version, visit):
    response = _complete_at_desk(desk_client, visit)

    assert "Consent missing: Microneedling consent (v1) not signed." in response.text
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.BOOKED


def test_the_desk_completes_without_consent_with_a_recorded_reason(desk_client, version, visit):
    response = _complete_at_desk(desk_client, visit, reason="Signed on paper, scan to follow")

    assert "marked completed" in response.text
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    entry = AuditEntry.objects.get(action="completed_without_consent", appointment=visit)
    assert entry.reason == "Signed on paper, scan to follow"


def test_the_desk_completes_a_consented_visit_without_a_reason(desk_client, version, visit, now):
    sign_version(version, visit.patient, now=now, appointment=visit)
    _complete_at_desk(desk_client, visit)
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED


def test_every_door_meets_the_rule_in_the_service(version, visit):
    with pytest.raises(services.ConsentMissing) as refused:
        booking_services.change_status(appointment=visit, status="completed", now=at(WEDNESDAY, 11))
    assert refused.value.status_code == 409


# --- deleting a patient -----------------------------------------------------------------------


def test_a_patient_with_a_signed_consent_cannot_be_deleted(version, visit, now):
    sign_version(version, visit.patient, now=now, appointment=visit)
    with pytest.raises(ProtectedError):
        visit.patient.delete()


def test_the_admin_refuses_to_delete_a_patient_whose_records_must_be_kept(
    owner_client, version, visit, now
):
    sign_version(version, visit.patient, now=now, appointment=visit)
    url = reverse("admin:booking_patient_delete", args=[visit.patient.pk])
    response = owner_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "<title>Cannot delete patient" in response.text
    assert "protected related objects" in response.text
    assert "signed Microneedling consent v1 on 2027-03-01" in response.text
    assert type(visit.patient).objects.filter(pk=visit.patient.pk).exists()


def test_a_signature_cannot_be_deleted_in_the_admin(owner_client, version, visit, now):
    signature = sign_version(version, visit.patient, now=now, appointment=visit)
    url = reverse("admin:consent_consentsignature_delete", args=[signature.pk])
    assert owner_client.post(url, {"post": "yes"}).status_code == 403
    assert ConsentSignature.objects.filter(pk=signature.pk).exists()


# --- pages and who may open them --------------------------------------------------------------


def test_the_visit_page_and_the_booking_done_page_ask_the_patient_to_sign(
    client, version, visit, frozen
):
    sign_in(client, visit.patient.user)
    for url in (reverse("visit_detail", args=[visit.pk]), reverse("book_done", args=[visit.pk])):
        response = client.get(url)
        assert "Sign your consent form" in response.text
        assert reverse("visit_consent", args=[visit.pk]) in response.text


def test_a_patient_signs_online_and_the_form_is_kept(client, version, visit, frozen):
    sign_in(client, visit.patient.user)
    url = reverse("visit_consent", args=[visit.pk])
    page = client.get(url)
    assert "I understand microneedling may cause <strong>redness</strong>" in page.text
    response = client.post(
        url,
        {
            "version": version.pk,
            "text_sha256": services.text_sha256(services.render_version(version)),
            "signature": drawn_signature(),
            "ticked": ["0", "1"],
        },
        follow=True,
        HTTP_USER_AGENT="Phone/2.0",
    )
    assert "Signed: Microneedling consent (v1)." in response.text
    signature = ConsentSignature.objects.get()
    assert signature.signed_by == visit.patient.user and signature.witnessed_by is None
    assert signature.user_agent == "Phone/2.0"
    assert reverse("consent_pdf", args=[signature.pk]) in response.text


def test_a_blank_signature_is_answered_with_a_message_not_an_error(client, version, visit, frozen):
    sign_in(client, visit.patient.user)
    response = client.post(
        reverse("visit_consent", args=[visit.pk]),
        {
            "version": version.pk,
            "text_sha256": services.text_sha256(services.render_version(version)),
            "signature": "",
        },
    )
    assert response.status_code == 400
    assert "Please sign in the box." in response.text


def test_at_the_clinic_the_signed_in_staff_member_is_the_witness(
    client, front_desk, version, visit, frozen
):
    sign_in(client, front_desk)
    client.post(
        reverse("staff_visit_consent", args=[visit.pk]),
        {
            "version": version.pk,
            "text_sha256": services.text_sha256(services.render_version(version)),
            "signature": drawn_signature(),
        },
    )
    signature = ConsentSignature.objects.get()
    assert signature.witnessed_by == front_desk and signature.signed_by is None
    assert signature.answers == {"I have read the aftercare.": False, "I am not pregnant.": False}


@pytest.fixture
def people(clinic, visit, front_desk):
    other_provider = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    return {
        "patient A": visit.patient.user,
        "patient B": factories.PatientFactory().user,
        "aesthetician A": clinic["provider"].user,
        "aesthetician B": other_provider.user,
        "desk": front_desk,
        "anonymous": None,
    }


@pytest.mark.parametrize(
    ("who", "pdf", "patient_sign", "staff_sign"),
    [
        ("patient A", 200, 200, 403),
        ("patient B", 404, 404, 403),
        ("aesthetician A", 200, 403, 200),
        ("aesthetician B", 404, 403, 404),
        ("desk", 200, 403, 200),
        ("anonymous", 302, 302, 302),
    ],
)
def test_access_matrix(
    client, people, version, visit, now, frozen, who, pdf, patient_sign, staff_sign
):
    signature = sign_version(version, visit.patient, now=now, appointment=visit)
    if people[who] is not None:
        sign_in(client, people[who])
    urls = {
        "pdf": reverse("consent_pdf", args=[signature.pk]),
        "patient_sign": reverse("visit_consent", args=[visit.pk]),
        "staff_sign": reverse("staff_visit_consent", args=[visit.pk]),
    }
    got = {name: client.get(url).status_code for name, url in urls.items()}
    assert got == {"pdf": pdf, "patient_sign": patient_sign, "staff_sign": staff_sign}
    if pdf == 200:
        response = client.get(urls["pdf"])
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_a_post_to_sign_another_patients_visit_is_a_404(client, people, version, visit, frozen):
    sign_in(client, people["patient B"])
    response = client.post(
        reverse("visit_consent", args=[visit.pk]),
        {"version": version.pk, "text_sha256": "x", "signature": drawn_signature()},
    )
    assert response.status_code == 404
    assert not ConsentSignature.objects.exists()


def test_staff_reading_a_pdf_is_audited(client, front_desk, version, visit, now, frozen):
    signature = sign_version(version, visit.patient, now=now, appointment=visit)
    sign_in(client, front_desk)
    client.get(reverse("consent_pdf", args=[signature.pk]))
    assert AuditEntry.objects.filter(action="consent_pdf_viewed", actor=front_desk).exists()


# --- the API door ---------------------------------------------------------------------------


def _complete_by_api(user, visit, **body):
    with time_machine.travel(at(WEDNESDAY, 11), tick=False):
        return client_for(user).post(
            reverse("api_appointment_status", args=[visit.pk]),
            {"status": "completed", **body},
            format="json",
        )


def test_the_api_refuses_to_complete_without_consent_with_a_409(front_desk, version, visit):
    response = _complete_by_api(front_desk, visit)
    assert response.status_code == 409
    assert "Consent missing" in response.json()["detail"]
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.BOOKED


def test_the_api_completes_without_consent_with_a_reason(clinic, version, visit):
    response = _complete_by_api(clinic["provider"].user, visit, reason="Paper form on file")
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert AuditEntry.objects.filter(
        action="completed_without_consent", reason="Paper form on file"
    ).exists()


def test_a_patient_cannot_change_a_status_through_the_api(version, visit):
    response = _complete_by_api(visit.patient.user, visit, reason="I did it")
    assert response.status_code == 403


def test_a_post_without_the_text_hash_is_a_400_with_a_message(client, version, visit, frozen):
    sign_in(client, visit.patient.user)
    response = client.post(
        reverse("visit_consent", args=[visit.pk]),
        {"version": version.pk, "signature": drawn_signature(), "ticked": ["7"]},
    )
    assert response.status_code == 400
    assert "The form could not be read" in response.text
    assert not ConsentSignature.objects.exists()
