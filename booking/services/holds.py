"""Holding a time while a patient books it, and the drafts the holds belong to.

A patient who picks a time gets a `booking.models.Hold` on the aesthetician and room it needs
(numbing and cleanup included) for HOLD_MINUTES; everyone else's availability leaves it out.
Two drafts cannot hold one slot: the hold's exclusion constraints (migration 0017) decide and
the loser gets SlotTaken; a hold and an appointment cannot overlap either (triggers of
migration 0019, refusals mapped to SlotTaken). An expired hold is ignored at once and deleted
before any new hold is placed and by the periodic sweep (notifications' beat runs
`sweep_expired`). Choosing another time, starting over or booking releases the draft's hold;
the booking deletes it in the booking's own transaction (`booking_from_draft`), so the slot
is never free in between.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from booking import queries
from booking.models import BookingDraft, Hold, Location, Provider
from booking.services.errors import SlotTaken
from booking.services.slots import _violated_exclusion, find_slot, local_date
from treatments.models import Treatment

__all__ = [
    "DRAFT_LIFETIME",
    "HOLD_MINUTES",
    "booking_from_draft",
    "hold_time",
    "live_hold",
    "new_draft",
    "release_holds",
    "sweep_expired",
]

HOLD_MINUTES = 10
DRAFT_LIFETIME = timedelta(days=3)
TAKEN = gettext_lazy("Someone else is booking that time right now. Please choose another time.")
BOOKED = gettext_lazy("That time was just taken. Please choose another time.")
# The database's refusal of a hold over an active appointment (trigger, migration 0019).
BOOKED_CONSTRAINT = "hold_not_booked"


def new_draft(*, data: dict[str, Any], now: datetime) -> BookingDraft:
    """A new draft under a fresh unguessable token (32 random bytes)."""
    return BookingDraft.objects.create(token=secrets.token_urlsafe(32), data=data, updated_at=now)


@transaction.atomic
def hold_time(
    *,
    draft: BookingDraft | str,
    treatment: Treatment,
    location: Location,
    provider: Provider | None,
    start: datetime,
    now: datetime,
    minutes: int = HOLD_MINUTES,
) -> Hold:
    """Hold `start` for `draft` (its earlier hold, if any, is released), with `provider` or
    the first aesthetician free then. Raises SlotTaken (someone else booked or holds it) or
    another BookingError (not a bookable time), like a patient's booking would."""
    if isinstance(draft, str):
        draft = BookingDraft.objects.get(pk=draft)
    Hold.objects.filter(draft=draft).delete()
    Hold.objects.filter(expires_at__lte=now).delete()
    day = local_date(location, start)
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day,
        provider_ids=[provider.pk] if provider else None,
        now=now,
        exclude_draft=draft.pk,
    )
    slot = find_slot(start, schedules, provider.pk if provider else None, staff=False, now=now)
    hold = Hold(
        draft=draft,
        treatment=treatment,
        location=location,
        provider_id=slot.provider_id,
        room_id=slot.room_id,
        expires_at=now + timedelta(minutes=minutes),
    )
    hold.set_times(start)
    try:
        with transaction.atomic():
            hold.save()
    except IntegrityError as error:
        constraint = _violated_exclusion(error)
        if constraint == BOOKED_CONSTRAINT:
            raise SlotTaken(str(BOOKED)) from error
        if constraint is not None:
            raise SlotTaken(str(TAKEN)) from error
        raise
    draft.updated_at = now
    draft.save(update_fields=["updated_at"])
    return hold


def live_hold(draft: BookingDraft | str, *, now: datetime) -> Hold | None:
    """The draft's hold if it has not expired, with its aesthetician."""
    return (
        Hold.objects.filter(draft=draft, expires_at__gt=now)
        .select_related("provider__user")
        .first()
    )


def release_holds(draft: BookingDraft | str) -> int:
    """Give the draft's held time back (the patient chose another time or left)."""
    deleted, _ = Hold.objects.filter(draft=draft).delete()
    return deleted


@contextmanager
def booking_from_draft(draft: BookingDraft | str) -> Iterator[None]:
    """Book inside this block: the draft's hold is deleted in the booking's transaction, so
    the booking no longer competes with it and a refused booking (rolled back) keeps it."""
    with transaction.atomic():
        Hold.objects.filter(draft=draft).delete()
        yield


def sweep_expired(*, now: datetime) -> tuple[int, int]:
    """Delete expired holds and drafts untouched for DRAFT_LIFETIME; return both counts."""
    holds, _ = Hold.objects.filter(expires_at__lte=now).delete()
    drafts, _ = BookingDraft.objects.filter(updated_at__lte=now - DRAFT_LIFETIME).delete()
    return holds, drafts
