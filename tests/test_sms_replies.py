"""Replies to the 48-hour reminder, through Twilio's signed webhook: C confirms the next visit,
R asks the desk for a call back, STOP and the Spanish stop words opt out, anything else gets
help; each answer in the patient's language and free of treatment names."""

import uuid
from datetime import date
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from booking.models import Appointment, AuditEntry
from notifications import inbound, sms
from notifications.models import CallBackRequest
from tests import factories
from tests.helpers import at, book, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")

TUESDAY = date(2027, 3, 2)
PHONE = "+14045550199"  # the factory's patient number, in E.164


def reply(client, settings, body, sender=PHONE, sid=None):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    params = {"From": sender, "Body": body, "MessageSid": sid or f"SM{uuid.uuid4().hex}"}
    url = "http://testserver" + reverse("sms_inbound")
    signature = sms.twilio_signature("twilio-token", url, params)
    return client.post(reverse("sms_inbound"), params, HTTP_X_TWILIO_SIGNATURE=signature)


def answer(response) -> str:
    assert response.status_code == 200
    return "".join(ElementTree.fromstring(response.content).itertext())


@pytest.fixture
def visits(clinic, patient, frozen):
    """Two visits: Tuesday 10:00 and Thursday 10:00, Atlanta."""
    return [
        book(clinic, patient, at(TUESDAY, 10), frozen),
        book(clinic, patient, at(date(2027, 3, 4), 10), frozen),
    ]


def test_the_48_hour_reminder_asks_for_c_or_r():
    from django.template.loader import render_to_string

    text = render_to_string("sms/reminder_long.txt", {"first_name": "Ana"})
    assert "Reply C to confirm or R to ask us to call you" in text
    assert "YES" not in text


def test_c_confirms_the_next_visit_only(client, settings, visits, frozen):
    text = answer(reply(client, settings, "c"))

    first, second = (Appointment.objects.get(pk=v.pk) for v in visits)
    assert first.status == Appointment.Status.CONFIRMED
    assert first.confirmed_via == "sms"
    assert first.confirmed_at == frozen
    assert second.status == Appointment.Status.BOOKED
    assert text == "Thank you! Your visit at Buckhead on Tue Mar 2 at 10:00 AM is confirmed."
    assert visits[0].treatment.name not in text
    assert AuditEntry.objects.filter(appointment=first, action="confirmed").get().reason == (
        "SMS reply C"
    )


def test_the_desk_sees_the_sms_confirmation(client, settings, visits, front_desk, frozen):
    reply(client, settings, "C")
    sign_in(client, front_desk)

    calendar = client.get(reverse("desk:calendar"), {"date": "2027-03-02"}).content.decode()
    visit = client.get(reverse("desk:appointment", args=[visits[0].pk])).content.decode()

    assert "Confirmed by SMS" in calendar
    assert "Confirmed by the patient (SMS reply)" in visit


def test_c_with_nothing_booked_says_so(client, settings, patient):
    text = answer(reply(client, settings, "C"))

    assert text.startswith("We found no upcoming visit")


def test_a_replayed_c_answers_nothing_and_confirms_once(client, settings, visits):
    reply(client, settings, "C", sid="SMsame")
    response = reply(client, settings, "C", sid="SMsame")

    assert answer(response) == ""
    assert AuditEntry.objects.filter(action="confirmed").count() == 1


def test_r_puts_the_patient_on_the_call_back_list_and_the_desk_marks_it(
    client, settings, patient, visits, front_desk
):
    assert answer(reply(client, settings, "R")) == "Thank you, we will call you soon."
    reply(client, settings, "r")  # a second R does not list them twice

    call = CallBackRequest.objects.get()
    assert (call.patient, call.appointment) == (patient, visits[0])
    assert AuditEntry.objects.filter(action="call_back_requested", patient=patient).count() == 1

    sign_in(client, front_desk)
    page = client.get(reverse("desk:call_backs")).content.decode()
    assert patient.full_name in page
    response = client.post(reverse("desk:call_back_done", args=[call.pk]))
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.called_back_at is not None and call.called_back_by == front_desk
    assert (
        "Nobody is waiting for a call." in client.get(reverse("desk:call_backs")).content.decode()
    )
    assert AuditEntry.objects.filter(action="called_back", actor=front_desk).exists()


def test_the_call_back_list_is_for_the_desk_only(client, patient):
    sign_in(client, patient.user)
    assert client.get(reverse("desk:call_backs")).status_code == 403


@pytest.mark.parametrize("word", ["STOP", "parar", "Baja.", "CANCELAR", "detener", "STOPALL"])
def test_stop_words_in_english_and_spanish_opt_out(client, settings, patient, word):
    response = reply(client, settings, word)

    patient.refresh_from_db()
    assert patient.sms_consent is False
    text = answer(response)
    if word in ("STOP", "STOPALL"):
        assert text == ""  # Twilio answers its own keywords
    else:
        assert text.startswith("No le enviaremos más mensajes")


def test_an_unknown_reply_gets_help_in_english(client, settings, patient):
    text = answer(reply(client, settings, "what time is it?"))

    assert text.startswith("Reply C to confirm your next visit")


def test_a_spanish_speaking_patient_is_answered_in_spanish(db):
    patient = factories.PatientFactory()
    patient.language = "es"  # the language field of the i18n work, when it lands

    assert inbound.language_of([patient]) == "es"
    assert inbound.language_of([factories.PatientFactory(phone="+14045550111")]) == "en"


def test_a_forged_reply_changes_nothing(client, settings, visits):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    params = {"From": PHONE, "Body": "C", "MessageSid": "SMforged"}
    response = client.post(reverse("sms_inbound"), params, HTTP_X_TWILIO_SIGNATURE="forged")

    assert response.status_code == 403
    assert not Appointment.objects.filter(status=Appointment.Status.CONFIRMED).exists()


def test_c_is_answered_in_spanish_for_a_spanish_speaker(client, settings, visits, monkeypatch):
    monkeypatch.setattr(inbound, "language_of", lambda patients: "es")

    text = answer(reply(client, settings, "C"))

    assert text == "¡Gracias! Su cita en Buckhead el martes 2 de marzo a las 10:00 está confirmada."
