"""The dispatcher sends in chunks (a few queries and one commit per chunk) and spreads an SMS
burst at the sender's rate instead of having the provider refuse it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import services
from notifications import dispatch as dispatcher
from notifications import sms
from notifications.models import Notification, ReminderPolicy
from tests import factories
from tests.helpers import at, book

Status = Notification.Status
NOW = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)


def queue_offers(count: int, channel: str, *, location=None) -> list[str]:
    location = location or factories.LocationFactory()
    patients = [
        factories.PatientFactory(sms_consent=True, phone=f"+1404555{i:04d}") for i in range(count)
    ]
    Notification.objects.bulk_create(
        Notification(
            key=f"offer:{channel}:{i}",
            kind=Notification.Kind.WAITLIST_OFFER,
            channel=channel,
            patient=patients[i],
            about_start=NOW + timedelta(days=1),
            context={"location": location.pk},
            due_at=NOW - timedelta(seconds=1),
        )
        for i in range(count)
    )
    return [f"offer:{channel}:{i}" for i in range(count)]


@pytest.fixture
def memory_sms(settings):
    settings.SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    sms.MemorySMSBackend.outbox.clear()
    yield sms.MemorySMSBackend.outbox
    sms.MemorySMSBackend.outbox.clear()


def queries_to_send(count: int, channel: str, location) -> int:
    queue_offers(count, channel, location=location)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        counts = dispatcher.dispatch_due()
    assert counts == {"sent": count}
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_chunk_costs_the_same_queries_for_five_messages_or_twenty(
    channel, settings, memory_sms, mailoutbox
):
    settings.REMINDERS_CHUNK_SIZE = 20
    settings.REMINDERS_CHUNK_SECONDS = 60  # a slow test machine must not split the chunk
    location = factories.LocationFactory()
    ReminderPolicy.for_location(location)
    five = queries_to_send(5, channel, location)
    Notification.objects.all().delete()

    twenty = queries_to_send(20, channel, location)

    assert twenty == five
    assert len(memory_sms) + len(mailoutbox) == 25


@pytest.mark.django_db
def test_a_burst_of_sms_goes_out_at_the_senders_rate_not_at_once(settings, memory_sms):
    settings.SMS_MAX_PER_SECOND = 2
    cache.clear()
    keys = queue_offers(6, "sms")

    with time_machine.travel(NOW, tick=False) as traveller:
        counts = dispatcher.dispatch_due(sleep=traveller.shift)

    sent = dict(Notification.objects.values_list("key", "sent_at"))
    assert counts == {"deferred": 4, "sent": 6}
    assert [message.reference for message in memory_sms] == keys  # in order, each once
    assert sorted(sent.values()) == [
        NOW,
        NOW,
        NOW + timedelta(seconds=1),
        NOW + timedelta(seconds=1),
        NOW + timedelta(seconds=2),
        NOW + timedelta(seconds=2),
    ]
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


@pytest.mark.django_db
def test_two_dispatchers_share_one_senders_rate(settings):
    """The count lives in the cache (Redis in production), not in a dispatcher's memory."""
    settings.SMS_MAX_PER_SECOND = 3
    cache.clear()
    first, second = (sms.SenderRateLimit("+15550100", 3) for _ in range(2))

    slots = [limit.reserve(NOW) for limit in (first, second, first, second, first, second, first)]

    assert slots == [NOW] * 3 + [NOW + timedelta(seconds=1)] * 3 + [NOW + timedelta(seconds=2)]


@pytest.mark.django_db
def test_a_deferred_reminder_is_checked_again_when_its_second_comes(
    clinic, patient, now, settings, memory_sms
):
    """The rate limit moves an SMS on; the visit moves meanwhile; the old reminder is not sent."""
    settings.SMS_MAX_PER_SECOND = 1
    cache.clear()
    patient.sms_consent = True
    patient.save()
    visit = book(clinic, patient, at(now.date() + timedelta(days=3), 10), now, staff=True)
    sms.SenderRateLimit(type(sms.get_backend()).__name__, 1).reserve(now)  # this second is used

    with time_machine.travel(now, tick=False):
        counts = dispatcher.dispatch_due(sleep=lambda seconds: None, budget_seconds=0.5)
    deferred = Notification.objects.get(channel="sms", kind="confirmation")
    assert counts.get("deferred") == 1 and deferred.status == Status.PENDING
    assert deferred.due_at == now + timedelta(seconds=1)

    with time_machine.travel(now + timedelta(seconds=1), tick=False):
        services.cancel_appointment(
            appointment=visit, now=now + timedelta(seconds=1), staff=True, reason="Called"
        )
        dispatcher.dispatch_due(sleep=lambda seconds: None, budget_seconds=0.5)

    deferred.refresh_from_db()
    assert memory_sms == []
    assert deferred.status in (Status.CANCELLED, Status.SKIPPED)
