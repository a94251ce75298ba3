"""Calendar subscriptions (webcal/ICS) that Google, Apple and Outlook poll.

An aesthetician's feed holds the visits they give: the patient's first name and the treatment,
nothing else (no screening answers, no notes, no surname). A patient's feed holds their own
visits, as the .ics download does. Both cover 30 days back to a year ahead, cancelled visits
included (STATUS:CANCELLED) so a polling calendar removes them; UIDs are the download's
(``appointment-<pk>@skinclinic``) and SEQUENCE is the visit's counter, bumped on every move and
cancellation (booking.services). Times are on the location's wall clock, with its VTIMEZONE.

A feed is read in three queries whatever the number of visits: the feed by its token's hash,
its visits with what they show, and the poll time.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction

from booking import ics, services
from booking.models import Appointment, Patient, Provider
from booking.services.audit import Actor
from calendars.models import CalendarFeed

__all__ = ["FEED_AFTER", "FEED_BEFORE", "REFRESH", "feed_for_token", "render", "rotate", "revoke"]

FEED_BEFORE = timedelta(days=30)
FEED_AFTER = timedelta(days=366)
REFRESH = timedelta(hours=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def rotate(
    *,
    now: datetime,
    patient: Patient | None = None,
    provider: Provider | None = None,
    actor: Actor = None,
) -> str:
    """A new secret token for the patient's or the aesthetician's feed (the old URL stops
    working), audited. Returns the token: the only time it exists in clear."""
    if (patient is None) == (provider is None):
        raise TypeError("A feed belongs to exactly one patient or one aesthetician.")
    token = secrets.token_urlsafe(32)
    owner = {"patient": patient} if patient is not None else {"provider": provider}
    _, created = CalendarFeed.objects.update_or_create(
        **owner, defaults={"token_hash": _hash(token), "created_at": now, "last_polled_at": None}
    )
    services.audit(
        actor=actor,
        action="calendar_feed_made" if created else "calendar_feed_rotated",
        patient=patient,
        reason="" if patient else f"Aesthetician {provider}",
        now=now,
    )
    return token


@transaction.atomic
def revoke(*, now: datetime, feed: CalendarFeed, actor: Actor = None) -> None:
    """Turn the feed off: its URL 404s from now on."""
    services.audit(
        actor=actor,
        action="calendar_feed_revoked",
        patient=feed.patient,
        reason="" if feed.patient_id else f"Aesthetician {feed.provider}",
        now=now,
    )
    feed.delete()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The feed whose token this is, or None (a made-up, revoked or rotated token)."""
    if not token or len(token) > 100:
        return None
    return (
        CalendarFeed.objects.select_related("patient", "provider")
        .filter(token_hash=_hash(token))
        .first()
    )


def _visits(feed: CalendarFeed, now: datetime):
    visits = Appointment.objects.filter(
        start__gte=now - FEED_BEFORE, start__lt=now + FEED_AFTER
    ).select_related("treatment", "location", "room", "patient", "plan")
    if feed.patient_id:
        return visits.filter(patient=feed.patient).order_by("start")
    return visits.filter(provider=feed.provider).order_by("start")


def _provider_event(appointment: Appointment) -> ics.Event:
    """What an aesthetician's phone shows: first name and treatment, the room, no details."""
    location = appointment.location
    return ics.Event(
        uid=f"appointment-{appointment.pk}@skinclinic",
        start=appointment.provider_start,
        end=appointment.end,
        summary=f"{appointment.patient.first_name}: {appointment.treatment.name}",
        location=f"{location.name}, {appointment.room.name}",
        sequence=appointment.sequence,
        cancelled=appointment.status == Appointment.Status.CANCELLED,
        tz=location.zone,
    )


def render(feed: CalendarFeed, *, now: datetime) -> str:
    """The feed's VCALENDAR, and the poll time noted."""
    visits = list(_visits(feed, now))
    if feed.patient_id:
        events = [ics.visit_event(a, stamp=now, sequence=a.sequence) for a in visits]
        name = "My skinclinic visits"
    else:
        events = [_provider_event(a) for a in visits]
        name = f"skinclinic: {feed.provider}"
    CalendarFeed.objects.filter(pk=feed.pk).update(last_polled_at=now)
    return ics.calendar(events, stamp=now, name=name, refresh=REFRESH)
