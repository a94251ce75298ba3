"""Phone numbers in E.164, read in each location's country; SMS replies and delivery reports
matched on the exact number, acted on once per MessageSid (issue 12, item 6)."""

import io
import json
import urllib.error
import uuid
from datetime import datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from booking import services
from booking.models import Appointment, AuditEntry, Location, Patient
from notifications import dispatch, inbound, sms
from notifications.models import Notification, ProviderEvent
from tests import factories
from tests.helpers import NEW_YORK, sign_in

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)

pytestmark = pytest.mark.django_db


@pytest.fixture
def madrid(db):
    return factories.LocationFactory(
        name="Madrid", time_zone="Europe/Madrid", country="ES", phone="+34 912 345 678"
    )


@pytest.fixture
def madrid_clinic(madrid, treatment):
    factories.RoomFactory(location=madrid, name="Sala 1", treatments=[treatment])
    factories.ProviderFactory(locations=[madrid], treatments=[treatment])
    return {"location": madrid, "treatment": treatment}


def post_signed(client, settings, name, params):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    url = "http://testserver" + reverse(name)
    signature = sms.twilio_signature("twilio-token", url, params)
    return client.post(reverse(name), params, HTTP_X_TWILIO_SIGNATURE=signature)


def reply(client, settings, body, sender, sid=None):
    params = {"From": sender, "Body": body, "MessageSid": sid or f"SM{uuid.uuid4().hex}"}
    return post_signed(client, settings, "sms_inbound", params)


# --- stored in E.164 -------------------------------------------------------------------------


def test_numbers_are_stored_in_e164(db):
    patient = factories.PatientFactory(phone="(404) 555-0142")

    patient.refresh_from_db()
    assert str(patient.phone) == "+14045550142"
    assert Patient.objects.filter(phone="+14045550142").exists()


def test_the_database_refuses_a_phone_that_is_not_e164(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.PatientFactory(phone="=1+1")


def test_a_spanish_clinic_reads_a_national_number_as_spanish(madrid):
    patient = services.create_patient(
        actor=None,
        now=NOW,
        phone_region=madrid.country,
        first_name="Lucía",
        last_name="García",
        phone="612 345 678",
    )

    assert str(patient.phone) == "+34612345678"


# --- replies: every opt-out word, exact numbers, once per MessageSid ---------------------------


@pytest.mark.parametrize(
    "word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "REVOKE", "OPTOUT", "stop."]
)
def test_every_twilio_opt_out_word_turns_sms_off(client, settings, word):
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")

    response = reply(client, settings, f" {word} ", "+14045550199")

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.sms_consent is False


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_every_twilio_opt_in_word_turns_sms_on(client, settings, word):
    patient = factories.PatientFactory(sms_consent=False, phone="+14045550199")

    reply(client, settings, word, "+14045550199")

    patient.refresh_from_db()
    assert patient.sms_consent is True


def test_other_replies_change_nothing(client, settings):
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")

    reply(client, settings, "Stop sending me the aftercare please", "+14045550199")

    patient.refresh_from_db()
    assert patient.sms_consent is True


def test_a_stop_from_spain_finds_the_patient_the_desk_typed_without_country_code(
    client, settings, front_desk, madrid_clinic
):
    patient = factories.PatientFactory(sms_consent=True, phone="")
    services.book_appointment(
        patient=patient,
        treatment=madrid_clinic["treatment"],
        location=madrid_clinic["location"],
        start=datetime(2027, 3, 2, 10, tzinfo=madrid_clinic["location"].zone),
        now=NOW,
        staff=True,
    )
    sign_in(client, front_desk)
    # The desk types the number as a Spaniard says it; the visit is in Madrid.
    response = client.post(
        reverse("desk:patient_edit", args=[patient.pk]),
        {
            "first_name": "Lucía",
            "last_name": "García",
            "email": patient.email,
            "phone": "612 345 678",
            "sms_consent": "on",
            "email_consent": "on",
        },
    )
    assert response.status_code == 302

    reply(client, settings, "STOP", "+34 612 345 678")

    patient.refresh_from_db()
    assert str(patient.phone) == "+34612345678"
    assert patient.sms_consent is False


def test_numbers_are_not_matched_on_their_last_ten_digits(client, settings):
    american = factories.PatientFactory(sms_consent=True, phone="+1 704 555 0199")

    reply(client, settings, "STOP", "+917045550199")  # an Indian mobile, same last ten digits

    american.refresh_from_db()
    assert american.sms_consent is True


def test_a_replayed_reply_changes_nothing(client, settings):
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")
    reply(client, settings, "STOP", "+14045550199", sid="SMreplayed")
    patient.refresh_from_db()
    services.set_consent(patient, now=NOW, sms_consent=True, reason="Asked at the desk")

    response = reply(client, settings, "STOP", "+14045550199", sid="SMreplayed")

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.sms_consent is True
    assert ProviderEvent.objects.filter(message_sid="SMreplayed").count() == 1
    assert AuditEntry.objects.filter(patient=patient, reason="SMS reply STOP").count() == 1


def test_a_reply_without_message_sid_is_refused(client, settings):
    response = post_signed(client, settings, "sms_inbound", {"From": "+1404", "Body": "STOP"})

    assert response.status_code == 400


# --- delivery reports: error 21610 ------------------------------------------------------------


def status_report(client, settings, sid, error_code="21610", status="undelivered"):
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "To": "+14045550199",
        "From": "+14045550100",
        "ErrorCode": error_code,
    }
    return post_signed(client, settings, "sms_status", params)


def test_error_21610_in_a_delivery_report_turns_sms_off(client, settings):
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")

    response = status_report(client, settings, "SM21610")

    assert response.status_code == 204
    patient.refresh_from_db()
    assert patient.sms_consent is False


def test_other_delivery_reports_change_nothing(client, settings):
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")

    status_report(client, settings, "SMok", error_code="", status="delivered")
    status_report(client, settings, "SMbusy", error_code="30003")

    patient.refresh_from_db()
    assert patient.sms_consent is True


def test_a_replayed_delivery_report_changes_nothing(client, settings):
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")
    status_report(client, settings, "SMagain")
    patient.refresh_from_db()
    services.set_consent(patient, now=NOW, sms_consent=True, reason="Asked at the desk")

    status_report(client, settings, "SMagain")

    patient.refresh_from_db()
    assert patient.sms_consent is True


def test_an_unsigned_delivery_report_is_refused(client, settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")

    response = client.post(
        reverse("sms_status"),
        {"MessageSid": "SMx", "To": "+14045550199", "ErrorCode": "21610"},
        HTTP_X_TWILIO_SIGNATURE="forged",
    )

    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.sms_consent is True


def test_a_status_callback_url_is_sent_with_each_message(settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC1", "secret"
    settings.TWILIO_FROM_NUMBER = "+14045550100"
    settings.TWILIO_STATUS_CALLBACK_URL = "https://clinic.example/sms/status/"
    opener = Opener()

    sms.TwilioSMSBackend(opener=opener).send(sms.SMSMessage(to="+14045550199", body="Hi"))

    assert b"StatusCallback=https%3A%2F%2Fclinic.example%2Fsms%2Fstatus%2F" in (
        opener.requests[0].data
    )


class Opener:
    def __init__(self, error=None):
        self.requests = []
        self.error = error

    def open(self, request, timeout):
        self.requests.append(request)
        if self.error:
            raise self.error
        return io.BytesIO(json.dumps({"sid": "SM42"}).encode())


def test_twilio_refusing_an_opted_out_number_turns_sms_off(settings, clinic):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC1", "secret"
    settings.TWILIO_FROM_NUMBER = "+14045550100"
    body = json.dumps({"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    error = urllib.error.HTTPError("u", 400, "Bad Request", {}, io.BytesIO(body.encode()))
    settings.SMS_BACKEND = "tests.test_phones.OptedOutBackend"
    OptedOutBackend.error = error
    patient = factories.PatientFactory(sms_consent=True, email="", phone="+14045550199")
    appointment = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=datetime(2027, 3, 4, 10, tzinfo=NEW_YORK),
        now=NOW,
        staff=True,
    )

    dispatch.dispatch_due(clock=lambda: NOW, budget_seconds=30)

    sent = Notification.objects.get(appointment=appointment, channel="sms", kind="confirmation")
    patient.refresh_from_db()
    assert patient.sms_consent is False
    assert sent.status == Notification.Status.SKIPPED
    assert "opted out" in sent.last_error


class OptedOutBackend(sms.TwilioSMSBackend):
    error: Exception | None = None

    def __init__(self):
        super().__init__(opener=Opener(self.error))


# --- forms: a clear error for a bad number -----------------------------------------------------

BAD_NUMBER = "Enter a phone number like"


def test_sign_up_refuses_a_number_that_is_not_one(client, db):
    response = client.post(
        reverse("sign_up"),
        {
            "first_name": "Maya",
            "last_name": "Okafor",
            "email": "maya@example.com",
            "phone": "=1+1",
            "date_of_birth": "1991-04-12",
        },
    )

    assert response.status_code == 400
    assert BAD_NUMBER in response.content.decode()
    assert not Patient.objects.exists()


def test_the_desk_patient_edit_refuses_a_bad_number(client, front_desk, patient):
    sign_in(client, front_desk)
    response = client.post(
        reverse("desk:patient_edit", args=[patient.pk]),
        {"first_name": "Ana", "last_name": "Reyes", "phone": "+1 404 555 01000"},
    )

    assert BAD_NUMBER in response.content.decode()
    patient.refresh_from_db()
    assert str(patient.phone) == "+14045550199"


def test_a_phone_booking_refuses_a_bad_number(client, front_desk, clinic):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        response = client.post(
            reverse("desk:book"),
            {
                "location": clinic["location"].slug,
                "treatment": clinic["treatment"].pk,
                "provider": clinic["provider"].pk,
                "date": "2027-03-02",
                "time": "10:00",
                "first_name": "Nora",
                "last_name": "Phone",
                "phone": "=1+1",
            },
        )

    assert BAD_NUMBER in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_phone_booking_in_madrid_stores_the_spanish_number(client, front_desk, madrid_clinic):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        response = client.post(
            reverse("desk:book"),
            {
                "location": madrid_clinic["location"].slug,
                "treatment": madrid_clinic["treatment"].pk,
                "first_name": "Lucía",
                "last_name": "García",
                "phone": "612 345 678",
                "date": "2027-03-02",
                "time": "10:00",
            },
        )

    assert response.status_code == 302
    [patient] = services.patients_with_phone("+34 612 345 678")
    assert patient.first_name == "Lucía"


def test_my_details_refuses_a_bad_number(client, patient):
    sign_in(client, patient.user)

    response = client.post(
        reverse("my_details"),
        {"first_name": "Ana", "last_name": "Reyes", "phone": "12", "date_of_birth": "1990-01-01"},
    )

    assert BAD_NUMBER in response.content.decode()


# --- the data migration ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_rewrites_numbers_and_keeps_unreadable_ones_in_the_notes():
    executor = MigrationExecutor(connection)
    executor.migrate([("booking", "0011_location_country")])
    apps = executor.loader.project_state([("booking", "0011_location_country")]).apps
    Loc = apps.get_model("booking", "Location")
    Pat = apps.get_model("booking", "Patient")
    Plan = apps.get_model("booking", "TreatmentPlan")
    madrid = Loc.objects.create(
        name="Madrid", slug="madrid-m", time_zone="Europe/Madrid", phone="91 234 56 78"
    )
    atlanta = Loc.objects.create(name="Atlanta", slug="atl-m", phone="(404) 555-0100")
    spaniard = Pat.objects.create(first_name="L", last_name="G", phone="612 345 678")
    american = Pat.objects.create(first_name="A", last_name="R", phone="404.555.0199")
    garbled = Pat.objects.create(first_name="X", last_name="Y", phone="=1+1", notes="VIP")
    treatment = apps.get_model("treatments", "Treatment").objects.create(
        name="Peel M", slug="peel-m", duration_minutes=30
    )
    # Their course is in Madrid: the number is read as Spanish.
    Plan.objects.create(
        patient=spaniard, treatment=treatment, location=madrid, sessions=3, first_date=NOW.date()
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Location.objects.get(pk=madrid.pk).country == "ES"
    assert str(Location.objects.get(pk=madrid.pk).phone) == "+34912345678"
    assert str(Location.objects.get(pk=atlanta.pk).phone) == "+14045550100"
    assert str(Patient.objects.get(pk=spaniard.pk).phone) == "+34612345678"
    assert str(Patient.objects.get(pk=american.pk).phone) == "+14045550199"
    kept = Patient.objects.get(pk=garbled.pk)
    assert kept.phone == ""
    assert kept.notes.startswith("VIP\n") and "=1+1" in kept.notes
    entry = AuditEntry.objects.get(action="phone_unreadable", patient=kept)
    assert entry.changes == {"phone": ["=1+1", ""]}


def test_opt_out_words_match_twilio_defaults():
    assert {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
    } == inbound.OPT_OUT_WORDS
    assert {"START", "UNSTOP", "YES"} == inbound.OPT_IN_WORDS
    assert Location._meta.get_field("country").default == "US"
