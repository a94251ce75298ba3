"""Words and dates the desk reads: human dates in the audit trail, message statuses that say
what will happen, and forms whose ids do not collide."""

import re
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from booking import services
from desk.templatetags.desk_dates import human_instant
from notifications.models import Notification
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

THURSDAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=NEW_YORK)


@pytest.fixture
def desk(client, front_desk):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        yield client


def book(clinic, patient, hour=11):
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(THURSDAY, hour),
        now=NOW,
        provider=clinic["provider"],
        staff=True,
    )


def test_human_instants_read_iso_text_and_leave_other_values_alone():
    assert human_instant("2026-12-03T11:00:00-05:00", "America/New_York") == "Thu 3 Dec, 11:00"
    assert human_instant("2026-12-03T16:00:00+00:00", "America/New_York") == "Thu 3 Dec, 11:00"
    assert human_instant(at(THURSDAY, 11), "Europe/London") == "Thu 3 Dec, 16:00"
    assert human_instant("Room 2", "America/New_York") == "Room 2"
    assert human_instant("2026-12-03", "America/New_York") == "2026-12-03"
    assert human_instant(7, "America/New_York") == 7
    assert human_instant(None, "America/New_York") is None


def test_the_audit_trail_shows_human_dates_in_the_clinic_zone(desk, clinic, patient):
    appointment = book(clinic, patient)

    html = desk.get(reverse("desk:appointment", args=[appointment.pk])).content.decode()

    assert "Thu 3 Dec, 11:00" in html
    assert "2026-12-03T11:00:00" not in html
    assert "Tue 1 Dec, 09:00" in html  # when it was booked


def test_the_patient_record_shows_human_dates_too(desk, clinic, patient):
    book(clinic, patient)

    html = desk.get(reverse("desk:patient", args=[patient.pk])).content.decode()

    assert "Thu 3 Dec, 11:00" in html and "T11:00:00" not in html


def test_move_and_cancel_forms_have_ids_of_their_own(desk, clinic, patient):
    appointment = book(clinic, patient)

    html = desk.get(reverse("desk:appointment", args=[appointment.pk])).content.decode()

    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'id="move_reason"' in html and 'id="cancel_reason"' in html
    assert 'for="move_reason"' in html and 'for="cancel_reason"' in html


def test_sms_for_a_patient_without_sms_consent_says_it_will_be_skipped(desk, clinic):
    patient = factories.PatientFactory(sms_consent=False, email_consent=True)
    appointment = book(clinic, patient)
    sms = appointment.notifications.filter(channel=Notification.Channel.SMS)
    assert sms.exists() and all(n.status == Notification.Status.PENDING for n in sms)

    html = desk.get(reverse("desk:appointment", args=[appointment.pk])).content.decode()

    assert "Skipped: no SMS consent" in html
    assert "Waiting to send" in html  # the emails do go out
    assert ">Pending<" not in html
    record = desk.get(reverse("desk:patient", args=[patient.pk])).content.decode()
    assert "Skipped: no SMS consent" in record


def test_a_skipped_message_says_why():
    row = Notification(
        status=Notification.Status.SKIPPED,
        channel=Notification.Channel.SMS,
        last_error="The visit moved.",
        patient=factories.PatientFactory.build(),
    )
    assert row.outlook == "Skipped: the visit moved"


def test_every_message_went_out_only_when_none_is_waiting(desk, clinic):
    consenting = factories.PatientFactory(sms_consent=True, email_consent=True)
    appointment = book(clinic, consenting)

    html = desk.get(reverse("failed_messages")).content.decode()
    assert "Every message went out" not in html
    waiting = Notification.objects.waiting().count()
    assert waiting and f"{waiting} messages are still waiting to go out" in html

    appointment.notifications.update(status=Notification.Status.SENT)
    html = desk.get(reverse("failed_messages")).content.decode()
    assert "Every message went out" in html


def test_messages_that_will_be_skipped_do_not_count_as_waiting(desk, clinic):
    book(clinic, factories.PatientFactory(sms_consent=False, email_consent=False))

    assert Notification.objects.waiting().count() == 0
    assert "Every message went out" in desk.get(reverse("failed_messages")).content.decode()
