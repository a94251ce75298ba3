"""The outbox: what each change queues, when it is due, and how the dispatcher sends it."""

import io
import json
import threading
import urllib.error
import uuid
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_string

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from booking import ics, schedule, services
from booking.models import Appointment
from notifications import dispatch as dispatcher
from notifications import planning, rendering, sms
from notifications.models import Notification, ReminderPolicy
from notifications.tasks import dispatch_due_messages
from tests import factories
from tests.helpers import NEW_YORK, at, book, sign_in

Kind = Notification.Kind
Status = Notification.Status


TUESDAY = date(2027, 3, 2)
THURSDAY = date(2027, 3, 4)


@pytest.fixture(autouse=True)
def memory_backends(settings):
    settings.SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms.MemorySMSBackend.outbox.clear()
    yield
    sms.MemorySMSBackend.outbox.clear()


@pytest.fixture
def patient(db):
    return factories.PatientFactory(
        first_name="Ana", email="ana@example.com", sms_consent=True, phone="+1 404 555 0199"
    )


def rows(appointment, **filters):
    return {
        (n.kind, n.channel): n for n in appointment.notifications.filter(**filters).order_by("pk")
    }


def dispatch(now):
    return dispatcher.dispatch_due(clock=lambda: now, budget_seconds=30)


# --- due times ------------------------------------------------------------------------------


def test_the_48_hour_reminder_keeps_the_wall_clock_across_spring_forward():
    # Clocks go 02:00 EST -> 03:00 EDT on Sunday 2027-03-14 (07:00 UTC).
    # Visit: Monday 2027-03-15 10:00 EDT = 14:00 UTC.
    # Long reminder: Saturday 2027-03-13 10:00 EST = 15:00 UTC (47 real hours before).
    policy = ReminderPolicy()
    start = datetime(2027, 3, 15, 10, tzinfo=NEW_YORK)
    due = planning.appointment_due_times(start, policy, NEW_YORK, now=start - timedelta(days=9))

    assert due[Kind.REMINDER_LONG] == datetime(2027, 3, 13, 15, tzinfo=UTC)
    assert due[Kind.REMINDER_SHORT] == datetime(2027, 3, 15, 12, tzinfo=UTC)


def test_the_48_hour_reminder_keeps_the_wall_clock_across_fall_back():
    # Clocks go 02:00 EDT -> 01:00 EST on Sunday 2027-11-07 (06:00 UTC).
    # Visit: Monday 2027-11-08 10:00 EST = 15:00 UTC.
    # Long reminder: Saturday 2027-11-06 10:00 EDT = 14:00 UTC (49 real hours before).
    start = datetime(2027, 11, 8, 10, tzinfo=NEW_YORK)
    due = planning.appointment_due_times(
        start, ReminderPolicy(), NEW_YORK, now=start - timedelta(days=9)
    )

    assert due[Kind.REMINDER_LONG] == datetime(2027, 11, 6, 14, tzinfo=UTC)


def test_reminders_already_past_are_not_queued():
    start = datetime(2027, 3, 2, 10, tzinfo=NEW_YORK)
    due = planning.appointment_due_times(
        start, ReminderPolicy(), NEW_YORK, now=start - timedelta(hours=3)
    )

    assert set(due) == {Kind.REMINDER_SHORT}


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2027, 3, 1, 22, 30), datetime(2027, 3, 2, 8, 0)),  # evening: next morning
        (datetime(2027, 3, 2, 6, 45), datetime(2027, 3, 2, 8, 0)),  # early: same morning
        (datetime(2027, 3, 2, 21, 0), datetime(2027, 3, 3, 8, 0)),  # the quiet start counts
        (datetime(2027, 3, 2, 8, 0), datetime(2027, 3, 2, 8, 0)),  # the quiet end does not
        (datetime(2027, 3, 2, 12, 0), datetime(2027, 3, 2, 12, 0)),
        # Saturday 2027-03-13 23:00 EST defers over the spring-forward night to Sunday 08:00 EDT.
        (datetime(2027, 3, 13, 23, 0), datetime(2027, 3, 14, 8, 0)),
    ],
)
def test_sms_is_deferred_out_of_quiet_hours(local, expected):
    due = local.replace(tzinfo=NEW_YORK)
    deferred = planning.outside_quiet_hours(due, NEW_YORK, time(21), time(8))

    assert deferred == expected.replace(tzinfo=NEW_YORK)


# --- queueing -------------------------------------------------------------------------------


def test_booking_queues_confirmation_and_reminders_in_its_transaction(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)

    queued = rows(appointment)
    assert set(queued) == {
        (kind, channel)
        for kind in (Kind.CONFIRMATION, Kind.REMINDER_LONG, Kind.REMINDER_SHORT)
        for channel in ("email", "sms")
    }
    assert queued[Kind.CONFIRMATION, "email"].due_at == now
    assert queued[Kind.REMINDER_LONG, "sms"].due_at == at(TUESDAY, 10)
    assert queued[Kind.REMINDER_SHORT, "email"].due_at == at(THURSDAY, 8)
    assert queued[Kind.REMINDER_LONG, "sms"].key == (
        f"appt:{appointment.pk}:reminder_long:sms:2027-03-04T15:00Z"
    )


def test_a_failed_booking_queues_nothing(clinic, patient, now):
    book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    with pytest.raises(services.SlotTaken):
        book(clinic, factories.PatientFactory(), at(THURSDAY, 10), now, staff=True)

    assert Notification.objects.count() == 6


def test_quiet_hours_defer_sms_but_not_the_short_reminder(clinic, patient):
    late_evening = at(TUESDAY, 22, 30)
    appointment = book(clinic, patient, at(THURSDAY, 9), late_evening, staff=True)

    queued = rows(appointment)
    assert queued[Kind.CONFIRMATION, "email"].due_at == late_evening
    assert queued[Kind.CONFIRMATION, "sms"].due_at == at(date(2027, 3, 3), 8)
    assert queued[Kind.REMINDER_SHORT, "sms"].due_at == at(THURSDAY, 7)


def test_rescheduling_moves_the_reminders(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    old = rows(appointment)

    services.reschedule_appointment(appointment=appointment, start=at(THURSDAY, 14), now=now)

    for row in old.values():
        row.refresh_from_db()
    assert old[Kind.REMINDER_LONG, "sms"].status == Status.CANCELLED
    assert old[Kind.CONFIRMATION, "email"].status == Status.CANCELLED
    pending = rows(appointment, status=Status.PENDING)
    assert pending[Kind.REMINDER_LONG, "sms"].due_at == at(TUESDAY, 14)
    assert pending[Kind.REMINDER_SHORT, "sms"].due_at == at(THURSDAY, 12)
    assert pending[Kind.RESCHEDULED, "email"].due_at == now


def test_moving_back_to_the_first_time_revives_its_reminders(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    services.reschedule_appointment(appointment=appointment, start=at(THURSDAY, 14), now=now)
    services.reschedule_appointment(appointment=appointment, start=at(THURSDAY, 10), now=now)

    pending = rows(appointment, status=Status.PENDING, kind=Kind.REMINDER_LONG)
    assert {n.about_start for n in pending.values()} == {at(THURSDAY, 10)}
    assert len(pending) == 2


def test_cancelling_cancels_the_reminders_and_sends_a_notice(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)

    services.cancel_appointment(appointment=appointment, now=now, staff=True)

    pending = rows(appointment, status=Status.PENDING)
    assert set(pending) == {(Kind.CANCELLED, "email"), (Kind.CANCELLED, "sms")}
    assert appointment.notifications.filter(kind=Kind.REMINDER_LONG).count() == 2
    assert not appointment.notifications.filter(
        kind=Kind.REMINDER_LONG, status=Status.PENDING
    ).exists()


def test_completing_queues_aftercare_by_email_only(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    done_at = at(THURSDAY, 11, 30)

    services.change_status(appointment=appointment, status="completed", now=done_at)

    pending = rows(appointment, status=Status.PENDING)
    assert set(pending) == {(Kind.AFTERCARE, "email")}
    assert pending[Kind.AFTERCARE, "email"].due_at == done_at + timedelta(minutes=60)


def test_aftercare_that_could_only_go_out_days_late_is_skipped(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    services.change_status(appointment=appointment, status="completed", now=at(THURSDAY, 11, 30))

    counts = dispatch(at(THURSDAY, 11, 30) + timedelta(days=3))

    assert rows(appointment)[Kind.AFTERCARE, "email"].status == Status.SKIPPED
    assert not [m for m in mail.outbox if "Aftercare" in m.body]
    assert counts.get("skipped", 0) >= 1


def test_a_plan_queues_maintenance_recalls_and_next_session_when_one_is_cancelled(
    clinic, patient, now
):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(THURSDAY, 10),
        now=now,
        staff=True,
    )
    recalls = plan.notifications.filter(kind=Kind.MAINTENANCE_RECALL)
    assert sorted(set(recalls.values_list("session_number", flat=True))) == [4, 5]
    assert not plan.notifications.filter(kind=Kind.NEXT_SESSION, status=Status.PENDING).exists()

    second = plan.appointments.get(session_number=2)
    services.cancel_appointment(appointment=second, now=now, staff=True)

    next_session = plan.notifications.get(
        kind=Kind.NEXT_SESSION, channel="email", status=Status.PENDING
    )
    assert next_session.session_number == 2
    assert next_session.key == f"plan:{plan.pk}:session:2:next_session:email"
    window = schedule.session_window(second)
    assert next_session.due_at == max(at(window.earliest, 10), now)
    closing = plan.notifications.get(kind=Kind.WINDOW_CLOSING, channel="email", session_number=2)
    assert closing.due_at == at(window.latest - timedelta(days=7), 10)

    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=second.start,
        now=now,
        staff=True,
        plan=plan,
        session_number=2,
        kind="initial",
    )
    assert not plan.notifications.filter(session_number=2, status=Status.PENDING).exists()


# --- dispatch -------------------------------------------------------------------------------


def test_it_sends_due_email_with_calendar_file_and_sms(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)

    counts = dispatch(now)

    assert counts == {"sent": 2}
    [email] = mail.outbox
    assert email.to == ["ana@example.com"]
    assert "Microneedling" in email.body
    assert "Thursday, March 4, 2027 at 10:00 AM" in email.body
    html, _ = email.alternatives[0]
    assert "<strong>Microneedling</strong>" in html
    name, calendar, mimetype = email.attachments[0]
    assert name == "visit.ics" and mimetype.startswith("text/calendar")
    assert "DTSTART;TZID=America/New_York:20270304T100000" in calendar
    [text] = sms.MemorySMSBackend.outbox
    assert text.to == "+14045550199"
    assert text.body == (
        "Hi Ana, your visit at Buckhead is booked for Thu Mar 4 at 10:00 AM. Reply STOP to opt out."
    )
    assert text.reference == f"appt:{appointment.pk}:confirmation:sms:2027-03-04T15:00Z"
    assert not Notification.objects.filter(status=Status.PENDING, due_at__lte=now).exists()


def test_the_long_reminder_has_precare_and_a_confirm_link(clinic, patient, now, client):
    treatment = clinic["treatment"]
    treatment.precare = "No retinoids for 3 days before."
    treatment.save()
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    dispatch(now)
    mail.outbox.clear()

    dispatch(at(TUESDAY, 10))

    [email] = mail.outbox
    assert "No retinoids for 3 days before." in email.body
    link = next(w for w in email.body.split() if "/visits/confirm/" in w)
    path = link.split("127.0.0.1:8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    assert b"Yes, I am coming" in page.content
    response = client.post(path)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED


def test_a_confirm_link_for_an_old_time_does_not_confirm(clinic, patient, now, client):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    token = rendering.confirm_token(appointment)
    services.reschedule_appointment(appointment=appointment, start=at(THURSDAY, 14), now=now)

    response = client.post(reverse("visit_confirm", args=[token]))

    assert response.status_code == 409
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_a_reminder_is_never_sent_with_a_changed_time(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    # A write that skips the services: the queued rows still name 10:00.
    Appointment.objects.filter(pk=appointment.pk).update(
        start=at(THURSDAY, 13), end=at(THURSDAY, 14, 30), held_until=at(THURSDAY, 14, 45),
        provider_start=at(THURSDAY, 13, 30),
    )  # fmt: skip

    counts = dispatch(at(TUESDAY, 10))

    assert counts == {"skipped": 4}
    assert mail.outbox == [] and sms.MemorySMSBackend.outbox == []
    skipped = appointment.notifications.filter(status=Status.SKIPPED)
    assert set(skipped.values_list("last_error", flat=True)) == {"The visit moved."}


def test_nothing_is_sent_for_a_cancelled_visit_except_the_notice(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    services.cancel_appointment(appointment=appointment, now=now, staff=True)

    dispatch(at(THURSDAY, 12))

    assert [m.subject for m in mail.outbox] == ["Your visit is cancelled"]
    assert "cancelled" in sms.MemorySMSBackend.outbox[0].body


def test_consent_is_respected(clinic, patient, now):
    patient.sms_consent = False
    patient.save()
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)

    counts = dispatch(now)

    assert counts == {"sent": 1, "skipped": 1}
    assert sms.MemorySMSBackend.outbox == []
    skipped = appointment.notifications.get(status=Status.SKIPPED)
    assert skipped.channel == "sms"


def test_a_kind_switched_off_for_the_location_is_skipped(clinic, patient, now):
    policy = ReminderPolicy.for_location(clinic["location"])
    policy.send_confirmation = False
    policy.save()
    book(clinic, patient, at(THURSDAY, 10), now, staff=True)

    assert dispatch(now) == {"skipped": 2}


class FlakySMS(sms.BaseSMSBackend):
    def send(self, message):
        raise sms.SMSError("provider down")


def test_a_failure_retries_with_backoff_then_fails(clinic, patient, now, settings):
    settings.SMS_BACKEND = "tests.test_reminders.FlakySMS"
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    row = appointment.notifications.get(kind=Kind.CONFIRMATION, channel="sms")
    clock = now
    for attempt, minutes in enumerate((1, 5, 30, 120), start=1):
        dispatch(clock)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.PENDING, attempt)
        assert row.due_at == clock + timedelta(minutes=minutes)
        clock = row.due_at

    dispatch(clock)

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_error == "SMSError: provider down"


def test_the_front_desk_sees_failed_messages_and_retries_one(
    clinic, patient, now, client, front_desk
):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    row = appointment.notifications.get(kind=Kind.CONFIRMATION, channel="sms")
    Notification.objects.filter(pk=row.pk).update(
        status=Status.FAILED, attempts=5, last_error="SMSError: bad number"
    )
    sign_in(client, front_desk)

    page = client.get(reverse("failed_messages"))
    assert page.status_code == 200
    assert b"SMSError: bad number" in page.content

    response = client.post(reverse("retry_message", args=[row.pk]))

    assert response.status_code == 302
    row.refresh_from_db()
    # Due at once; the sweep queued on commit (never here: the test's transaction is rolled
    # back) or the next beat sends it.
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert row.due_at <= datetime.now(UTC)


def test_only_the_front_desk_sees_failed_messages(client, patient):
    sign_in(client, patient.user)
    assert client.get(reverse("failed_messages")).status_code == 403
    client.logout()
    assert client.get(reverse("failed_messages")).status_code == 302


def test_the_command_sends_due_messages(clinic, patient, now):
    book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    out = io.StringIO()

    with time_machine.travel(now, tick=False):
        call_command("dispatch_messages", stdout=out)

    assert out.getvalue().strip() == "Messages: 2 sent"


def test_a_lapsed_lease_is_claimed_again_but_a_live_one_is_not(clinic, patient, now):
    book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    ids, lease_until = dispatcher.claim_due(now=now, batch=10, lease=timedelta(minutes=5))
    assert len(ids) == 2

    assert (
        dispatcher.claim_due(now=now + timedelta(minutes=4), batch=10, lease=timedelta(5))[0] == []
    )
    again, _ = dispatcher.claim_due(
        now=now + timedelta(minutes=6), batch=10, lease=timedelta(minutes=5)
    )
    assert sorted(again) == sorted(ids)
    # The first dispatcher's claim is gone: it sends nothing.
    senders = dispatcher._Senders()
    results = dispatcher.deliver(ids, lease_until=lease_until, clock=lambda: now, senders=senders)
    assert results == dict.fromkeys(ids, "lost")


# --- SMS privacy, opt-out and providers -----------------------------------------------------

TREATMENT_NAMES = [
    "Microneedling",
    "Chemical peel",
    "Botox",
    "Dermal filler",
    "Laser hair removal",
    "HydraFacial",
    "PRP facial",
    "Acne facial",
]


def test_no_sms_template_says_a_treatment_name(clinic, patient, now):
    plan_treatment = clinic["treatment"]
    for name in TREATMENT_NAMES:
        plan_treatment.name = name
        plan_treatment.save()
        for kind in Kind:
            if "sms" not in planning.CHANNELS[kind]:
                continue
            appointment = Appointment.objects.first() or book(
                clinic, patient, at(THURSDAY, 10), now, staff=True
            )
            row = Notification(
                key=f"t:{name}:{kind}",
                kind=kind,
                channel="sms",
                patient=patient,
                appointment=appointment if kind not in planning.PLAN_KINDS else None,
                about_start=appointment.start if kind not in planning.PLAN_KINDS else None,
                context={"location": clinic["location"].pk, "latest": "2027-04-01"},
                due_at=now,
            )
            text = rendering.render_sms(row)
            assert name.lower() not in text.lower(), (kind, text)
            assert "Ana" in text and "Buckhead" in text
            # The template gets only name, date, time and clinic to work with.
            raw = render_to_string(f"sms/{kind}.txt", {"treatment": name})
            assert name not in raw


def sign_inbound(client, settings, body, sender="+14045550199", signature=None, sid=None):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    params = {"From": sender, "Body": body, "MessageSid": sid or f"SM{uuid.uuid4().hex}"}
    url = "http://testserver" + reverse("sms_inbound")
    signature = signature or sms.twilio_signature("twilio-token", url, params)
    return client.post(reverse("sms_inbound"), params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_stop_by_sms_opts_the_patient_out(client, settings, patient):
    response = sign_inbound(client, settings, " stop ")

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.sms_consent is False

    sign_inbound(client, settings, "START")
    patient.refresh_from_db()
    assert patient.sms_consent is True


def test_an_unsigned_inbound_sms_is_refused(client, settings, patient):
    response = sign_inbound(client, settings, "STOP", signature="forged")

    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.sms_consent is True


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FakeOpener:
    def __init__(self, error=None):
        self.requests = []
        self.error = error

    def open(self, request, timeout):
        self.requests.append(request)
        if self.error:
            raise self.error
        return FakeResponse(json.dumps({"sid": "SM42"}).encode())


def test_twilio_backend_posts_to_the_messages_api(settings):
    settings.TWILIO_ACCOUNT_SID = "AC1"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM_NUMBER = "+14045550100"
    opener = FakeOpener()

    sid = sms.TwilioSMSBackend(opener=opener).send(sms.SMSMessage(to="+14045550199", body="Hi"))

    assert sid == "SM42"
    [request] = opener.requests
    assert request.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert request.get_method() == "POST"
    assert request.data == b"To=%2B14045550199&From=%2B14045550100&Body=Hi"
    assert request.get_header("Authorization") == "Basic QUMxOnNlY3JldA=="


def test_twilio_errors_become_sms_errors(settings):
    settings.TWILIO_ACCOUNT_SID = "AC1"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM_NUMBER = "+14045550100"
    error = urllib.error.HTTPError("u", 400, "Bad", {}, io.BytesIO(b'{"message": "bad To"}'))

    with pytest.raises(sms.SMSError, match="400"):
        sms.TwilioSMSBackend(opener=FakeOpener(error)).send(sms.SMSMessage(to="x", body="Hi"))


def test_the_calendar_file_is_valid_rfc5545():
    text = ics.event(
        uid="appointment-1@skinclinic",
        start=datetime(2027, 3, 15, 10, tzinfo=NEW_YORK),
        end=datetime(2027, 3, 15, 11, 30, tzinfo=NEW_YORK),
        summary="Microneedling at Buckhead; session 2, of 3 " + "é" * 60,
        stamp=datetime(2027, 3, 1, 13, tzinfo=UTC),
    )

    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "DTSTART:20270315T140000Z" in lines
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Microneedling at Buckhead\\; session 2\\, of 3 " in unfolded
    assert message_from_string("X: y")  # the stdlib can read it as text; no NUL, no bare LF
    assert "\n" not in text.replace("\r\n", "")


# --- concurrency, in process ----------------------------------------------------------------


def due_messages(count, patient, location, now):
    Notification.objects.bulk_create(
        Notification(
            key=f"test:{i}",
            kind=Kind.WAITLIST_OFFER,
            channel="sms",
            patient=patient,
            about_start=now + timedelta(days=1),
            context={"location": location.pk},
            due_at=now - timedelta(seconds=i),
        )
        for i in range(count)
    )


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_each_message_once(location, patient):
    now = datetime.now(UTC)
    due_messages(300, patient, location, now)

    def run():
        try:
            dispatcher.dispatch_due(batch=7, budget_seconds=60)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    references = [m.reference for m in sms.MemorySMSBackend.outbox]
    assert len(references) == 300
    assert len(set(references)) == 300
    assert Notification.objects.filter(status=Status.SENT).count() == 300


@pytest.mark.django_db(transaction=True)
def test_the_same_task_delivered_twice_sends_each_message_once(location, patient):
    now = datetime.now(UTC)
    due_messages(100, patient, location, now)

    def run():
        try:
            dispatch_due_messages.apply()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    dispatch_due_messages.apply()  # and once more, late

    references = [m.reference for m in sms.MemorySMSBackend.outbox]
    assert sorted(references) == sorted(f"test:{i}" for i in range(100))


def test_a_course_booked_at_once_is_confirmed_once_with_every_visit(clinic, patient, now):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(THURSDAY, 10),
        now=now,
    )
    confirmations = Notification.objects.filter(plan=plan, kind=Kind.CONFIRMATION) | (
        Notification.objects.filter(appointment__plan=plan, kind=Kind.CONFIRMATION)
    )
    assert sorted(confirmations.values_list("channel", flat=True)) == ["email", "sms"]

    dispatch(now)

    [email] = [m for m in mail.outbox if m.subject == "Your visit is booked"]
    assert "course of Microneedling is booked, 3 visits" in email.body
    assert email.body.count("Session ") == 3
    assert email.attachments[0][1].count("BEGIN:VEVENT") == 3
    [text] = sms.MemorySMSBackend.outbox
    assert "your 3 visits at Buckhead are booked, the first on Thu Mar 4 at 10:00 AM" in text.body
    assert "Microneedling" not in text.body


def test_a_lone_cr_in_a_calendar_text_cannot_end_the_line():
    text = ics.event(
        uid="appointment-1@skinclinic",
        start=datetime(2027, 3, 15, 10, tzinfo=NEW_YORK),
        end=datetime(2027, 3, 15, 11, tzinfo=NEW_YORK),
        summary="Peel\rATTENDEE:mailto:evil@example.com",
        location="Suite 4\r",
        description="Before\r\nyour visit\ravoid sun",
        stamp=datetime(2027, 3, 1, 13, tzinfo=UTC),
    )

    assert "\r" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Peel\\nATTENDEE:mailto:evil@example.com" in unfolded
    assert "\r\nATTENDEE" not in text
    assert "DESCRIPTION:Before\\nyour visit\\navoid sun" in unfolded
