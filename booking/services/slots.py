"""Finding and holding a free time: the rules that apply, why a time is not free, and the save
that turns the database's no-overlap constraint into a clear message.

Overlaps are checked in Python for a clear message, but the database decides: on PostgreSQL
the exclusion constraints of migrations 0002 (aesthetician, room) and 0007 (patient), and the
triggers of 0019 (no visit over a live online hold, booking.services.holds); on
SQLite every transaction takes the write lock when it begins (settings: transaction_mode
IMMEDIATE), so check-then-insert cannot interleave.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import availability, formats, queries
from booking.models import Appointment, ClosedDay, Hold, Location
from booking.services.errors import BookingError, PatientBusy, SlotTaken
from treatments.models import Treatment

FAR_AHEAD_DAYS = 3650  # "no horizon": ten years

STAFF_RULES_OVERRIDE = {"min_notice_minutes": 0, "horizon_days": FAR_AHEAD_DAYS}


def _violated_exclusion(error: IntegrityError) -> str | None:
    """The name of the PostgreSQL exclusion constraint `error` broke, or None (psycopg 3's
    error is the cause: ``sqlstate`` and ``diag.constraint_name``)."""
    cause = getattr(error, "__cause__", None)
    if getattr(cause, "sqlstate", None) != "23P01":  # exclusion_violation
        return None
    return getattr(getattr(cause, "diag", None), "constraint_name", None) or ""


PATIENT_OVERLAP_CONSTRAINT = "appointment_patient_no_overlap"
# The database's refusal of a visit over a live online hold (trigger, migration 0019).
HELD_CONSTRAINT = "appointment_not_held_online"


def _sweep_expired_holds_over(appointment: Appointment) -> int:
    """Delete the holds over the visit's time that have expired by this server's clock. The
    database judges expiry by its own clock (now()); where that lags (clock skew), a hold this
    side already let go must not refuse the visit."""
    deleted, _ = (
        Hold.objects.filter(expires_at__lte=timezone.now())
        .filter(
            Q(
                provider_id=appointment.provider_id,
                provider_start__lt=appointment.held_until,
                held_until__gt=appointment.provider_start,
            )
            | Q(
                room_id=appointment.room_id,
                start__lt=appointment.held_until,
                held_until__gt=appointment.start,
            )
        )
        .delete()
    )
    return deleted


def patient_busy(appointment: Appointment) -> PatientBusy | None:
    """The refusal for a visit that overlaps another active visit of the same patient."""
    clash = (
        Appointment.objects.active()
        .filter(
            patient_id=appointment.patient_id, start__lt=appointment.end, end__gt=appointment.start
        )
        .exclude(pk=appointment.pk)
        .select_related("treatment", "location")
        .first()
    )
    if clash is None:
        return None
    when = clash.location.local(clash.start)
    return PatientBusy(
        _(
            "This patient already has a visit then: %(treatment)s at %(location)s, %(day)s at "
            "%(time)s. One person cannot be at two visits at once."
        )
        % {
            "treatment": clash.treatment,
            "location": clash.location,
            "day": formats.short_date(when),
            "time": formats.clock(when),
        }
    )


def save_holding_time(appointment: Appointment) -> None:
    """Save an active visit in a savepoint. Refuse it if the patient is busy then; turn the
    database's no-overlap constraints (and its refusal of a time held online) into SlotTaken
    or PatientBusy."""
    if appointment.is_active and (busy := patient_busy(appointment)) is not None:
        raise busy
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        constraint = _violated_exclusion(error)
        if constraint == HELD_CONSTRAINT and _sweep_expired_holds_over(appointment):
            return save_holding_time(appointment)  # once more: fewer holds each time
        if constraint == PATIENT_OVERLAP_CONSTRAINT:
            raise patient_busy(appointment) or PatientBusy(
                _("This patient already has a visit at that time.")
            ) from error
        if constraint is not None:
            raise SlotTaken(_("That time was just taken. Please choose another time.")) from error
        raise
    except OperationalError as error:
        # Two courses saved at once that cross the same aesthetician and room in opposite
        # order can deadlock on the hold triggers' locks; PostgreSQL cancels one of them.
        if getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED:
            raise SlotTaken(_("That time was just taken. Please choose another time.")) from error
        raise


DEADLOCK_DETECTED = "40P01"


def rules_for(
    schedules: queries.Schedules, *, staff: bool, later_session: bool = False
) -> availability.Rules:
    """The location's booking rules; staff skip the notice and the horizon. A course runs
    past the online horizon, so only its first visit is held to it."""
    rules = replace(schedules.rules, **STAFF_RULES_OVERRIDE) if staff else schedules.rules
    if later_session:
        rules = replace(rules, horizon_days=max(rules.horizon_days, FAR_AHEAD_DAYS))
    return rules


def closed_day_name(start: datetime, schedules: queries.Schedules) -> str | None:
    """The name of the closed day (holiday) `start` falls on at the location, if any."""
    return schedules.closed_days.get(start.astimezone(schedules.tz).date())


def closed_day_problem(location: Location, start: datetime) -> str | None:
    """For forms that set times directly (the admin): the refusal of a visit on a day the
    location is closed, or None. One query."""
    name = (
        ClosedDay.objects.filter(location=location, date=location.local(start).date())
        .values_list("name", flat=True)
        .first()
    )
    return None if name is None else closed_message(name)


def closed_message(name: str) -> str:
    return _("The clinic is closed that day (%(name)s).") % {"name": name}


def _why_not_free(
    start: datetime, schedules: queries.Schedules, provider_id: int, *, staff: bool, now: datetime
) -> BookingError:
    """Tell apart "taken" from "not a bookable time at all", and say which."""
    provider = schedules.provider(provider_id)
    if provider is None:
        return BookingError(_("This aesthetician does not offer this treatment here."))
    if not schedules.rooms:
        return BookingError(_("No room here can host this treatment."))
    rules = rules_for(schedules, staff=staff)
    if start <= now:
        return BookingError(_("That time has already passed. Please choose a later time."))
    if start < now + timedelta(minutes=rules.min_notice_minutes):
        hours = rules.min_notice_minutes / 60
        return BookingError(
            _("Online bookings need at least %(hours)s hours' notice.") % {"hours": f"{hours:g}"}
        )
    if start > now + timedelta(days=rules.horizon_days):
        return BookingError(_("Bookings open %(days)s days ahead.") % {"days": rules.horizon_days})
    if (holiday := closed_day_name(start, schedules)) is not None:
        return BookingError(closed_message(holiday))
    idle = replace(provider, busy=())
    rooms = tuple(replace(r, busy=()) for r in schedules.rooms)

    def fits(require_step: bool) -> bool:
        return (
            availability.is_free(
                start,
                timing=schedules.timing,
                tz=schedules.tz,
                provider=idle,
                rooms=rooms,
                now=now,
                rules=rules,
                require_step=require_step,
                closed_days=schedules.closed_days,
            )
            is not None
        )

    if not fits(require_step=False):
        return BookingError(_("That time is outside the aesthetician's working hours."))
    if not staff and not fits(require_step=True):
        return BookingError(
            _(
                "Visits start every %(minutes)s minutes on the hour "
                "(10:00, 10:15...). Please pick one of the times shown."
            )
            % {"minutes": rules.step_minutes}
        )
    return SlotTaken(_("That time is already taken. Please choose another time."))


def find_slot(
    start: datetime,
    schedules: queries.Schedules,
    provider_id: int | None,
    *,
    staff: bool,
    now: datetime,
) -> availability.Slot:
    candidates = (
        [schedules.provider(provider_id)] if provider_id is not None else schedules.providers
    )
    for provider in candidates:
        if provider is None:
            continue
        slot = availability.is_free(
            start,
            timing=schedules.timing,
            tz=schedules.tz,
            provider=provider,
            rooms=schedules.rooms,
            now=now,
            rules=rules_for(schedules, staff=staff),
            require_step=not staff,
            closed_days=schedules.closed_days,
        )
        if slot is not None:
            return slot
    if provider_id is not None:
        raise _why_not_free(start, schedules, provider_id, staff=staff, now=now)
    if not schedules.providers:
        raise BookingError(_("Nobody offers this treatment at this location."))
    # "Anyone": taken if it was bookable with someone, else the first aesthetician's reason.
    reasons = [
        _why_not_free(start, schedules, p.provider_id, staff=staff, now=now)
        for p in schedules.providers
    ]
    raise next((r for r in reasons if isinstance(r, SlotTaken)), reasons[0])


def why_not_bookable(
    *,
    treatment: Treatment,
    location: Location,
    provider_id: int | None,
    start: datetime,
    now: datetime,
    staff: bool = False,
    exclude_draft: str | None = None,
) -> BookingError | None:
    """None if `start` can be booked now, else the refusal booking it would meet: SlotTaken
    only for a time that is bookable but held by someone else, otherwise the real reason (in
    the past, a closed day, outside working hours, off the time grid, not offered by that
    aesthetician). The holds of `exclude_draft` (the draft asking) count as free."""
    day = location.local(start).date()
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day,
        provider_ids=[provider_id] if provider_id else None,
        now=now,
        exclude_draft=exclude_draft,
    )
    try:
        find_slot(start, schedules, provider_id, staff=staff, now=now)
    except BookingError as error:
        return error
    return None


def local_date(location: Location, instant: datetime) -> date:
    return location.local(instant).date()


def check_bookable(treatment: Treatment, location: Location, start: datetime) -> None:
    if not treatment.is_active:
        raise BookingError(_("This treatment is not offered at the moment."))
    if start.tzinfo is None:
        raise BookingError(_("Give the time with its time zone."))


@dataclass
class Preference:
    """What later sessions of a plan try to keep from the first: aesthetician, weekday, time."""

    provider_id: int | None = None
    weekday: int | None = None
    wall_minutes: int | None = None

    def score(
        self, slot: availability.Slot, target: date, tz: tzinfo
    ) -> tuple[bool, bool, int, int, datetime]:
        local = slot.start.astimezone(tz)
        minutes = local.hour * 60 + local.minute
        return (
            self.provider_id is not None and slot.provider_id != self.provider_id,
            self.weekday is not None and local.weekday() != self.weekday,
            abs(minutes - self.wall_minutes) if self.wall_minutes is not None else 0,
            abs((local.date() - target).days),
            slot.start,
        )


def with_hold(schedules: queries.Schedules, slot: availability.Slot) -> queries.Schedules:
    """The schedules as they would be once `slot` is booked."""
    room_hold, provider_hold = availability.holds(slot.start, schedules.timing)
    return replace(
        schedules,
        providers=tuple(
            replace(p, busy=(*p.busy, provider_hold)) if p.provider_id == slot.provider_id else p
            for p in schedules.providers
        ),
        rooms=tuple(
            replace(r, busy=(*r.busy, room_hold)) if r.room_id == slot.room_id else r
            for r in schedules.rooms
        ),
    )


@dataclass(frozen=True)
class NearbyTime:
    """A free start offered instead of a refused one, and who is free then."""

    start: datetime
    provider_id: int
    provider_name: str


def nearest_free_times(
    *,
    treatment: Treatment,
    location: Location,
    start: datetime,
    now: datetime,
    provider_id: int | None = None,
    exclude_appointment_id: int | None = None,
    per_side: int = 3,
    staff: bool = True,
) -> list[NearbyTime]:
    """Free starts near a refused ``start`` (its local day and the next): up to ``per_side``
    before and after it with the chosen aesthetician, then as many with anyone else (one
    aesthetician per start, the lowest id), in time order, the chosen aesthetician's first.
    ``exclude_appointment_id`` is the visit being moved, whose own time counts as free.
    Two queries on PostgreSQL (queries.load_schedules)."""
    day = location.local(start).date()
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day + timedelta(days=1),
        exclude_appointment_id=exclude_appointment_id,
    )
    slots = schedules.free_slots(
        day, day + timedelta(days=1), now=now, rules=rules_for(schedules, staff=staff)
    )

    def around(candidates: list[availability.Slot]) -> list[availability.Slot]:
        before = [s for s in candidates if s.start < start][-per_side:]
        after = [s for s in candidates if s.start > start][:per_side]
        return before + after

    slots.sort(key=lambda s: (s.start, s.provider_id))
    chosen = around([s for s in slots if s.provider_id == provider_id]) if provider_id else []
    taken = {s.start for s in chosen}
    others: dict[datetime, availability.Slot] = {}
    for slot in slots:
        if slot.provider_id != provider_id and slot.start not in taken:
            others.setdefault(slot.start, slot)
    picked = chosen + around(list(others.values()))
    return [
        NearbyTime(s.start, s.provider_id, schedules.provider_names.get(s.provider_id, ""))
        for s in picked
    ]
