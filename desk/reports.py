"""The owner's figures over a period: bookings and utilisation per aesthetician and room,
no-show and late-cancellation rates, past visits whose outcome was never recorded, plans
started, completed and overdue, how far the courses started got (drop-off per session), how
many patients booked again after a completed visit, and maintenance recalls that turned into
bookings; and the money (payments.report): revenue, deposits, fees charged and waived and
refunds per location and aesthetician.

Every figure is a database aggregation; `owner_report` runs a fixed number of queries
whatever the period or the size of the clinic. Periods are whole local days [first, last] on
each location's own calendar. Minutes are wall-clock minutes; utilisation is booked minutes
over working (aesthetician) or opening (room) minutes, 0..1.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from booking import schedule
from booking.models import (
    Appointment,
    Location,
    Provider,
    Room,
    TreatmentPlan,
    WorkingHours,
)
from notifications.models import Notification
from payments.report import MoneyRow, money_rows

# Visits that took (or still take) someone's time: not cancelled.
HELD = Q(status__in=["booked", "confirmed", "checked_in", "completed", "no_show"])
# Visits whose time has come and gone, so showing up or not is known.
ATTENDED_OR_NOT = Q(status__in=["checked_in", "completed", "no_show"])
# Still waiting for their outcome: after the visit's day, these need the desk to resolve them.
UNRESOLVED = Q(status__in=["booked", "confirmed"])
# A patient counts as rebooked when their next visit was on the books this soon after one.
REBOOK_WEEKS = 8
# How many past visits still marked booked the page lists by name (the count is exact).
UNRESOLVED_LISTED = 20


@dataclass(frozen=True)
class Row:
    """One aesthetician or room over the period."""

    name: str
    bookings: int
    completed: int
    no_shows: int
    late_cancellations: int
    booked_minutes: int
    available_minutes: int

    @property
    def utilisation(self) -> float:
        return self.booked_minutes / self.available_minutes if self.available_minutes else 0.0


@dataclass(frozen=True)
class Rates:
    visits: int  # every visit starting in the period, cancelled ones included
    no_shows: int
    attended_or_not: int  # past visits with an outcome: checked in, completed or no-show
    late_cancellations: int
    unresolved: int = 0  # visits before today still marked booked or confirmed

    @property
    def no_show_rate(self) -> float:
        return self.no_shows / self.attended_or_not if self.attended_or_not else 0.0

    @property
    def late_cancel_rate(self) -> float:
        return self.late_cancellations / self.visits if self.visits else 0.0


@dataclass(frozen=True)
class Plans:
    started: int
    completed: int
    overdue: int  # active, with a session whose window closed unbooked by the period's end


@dataclass(frozen=True)
class SessionReach:
    """Of the courses started that have a session `number`, how many got that far."""

    number: int
    courses: int
    reached: int

    @property
    def rate(self) -> float:
        return self.reached / self.courses if self.courses else 0.0


@dataclass(frozen=True)
class Courses:
    """The treatment plans started in the period and how far each got (completed sessions)."""

    started: int
    completed: int  # every planned session completed
    sessions: list[SessionReach]

    @property
    def completion_rate(self) -> float:
        return self.completed / self.started if self.started else 0.0


@dataclass(frozen=True)
class Rebooking:
    """Patients with a completed visit in the period, and those of them whose next visit was
    booked within `weeks` of one (a course's sessions booked ahead count)."""

    weeks: int
    patients: int
    rebooked: int

    @property
    def rate(self) -> float:
        return self.rebooked / self.patients if self.patients else 0.0


@dataclass(frozen=True)
class Recalls:
    sent: int
    booked: int  # the patient booked a visit after the recall went out

    @property
    def rate(self) -> float:
        return self.booked / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    location: Location | None
    aestheticians: list[Row]
    rooms: list[Row]
    rates: Rates
    plans: Plans
    recalls: Recalls
    courses: Courses
    rebooking: Rebooking
    unresolved: list[Appointment]  # the first UNRESOLVED_LISTED, oldest first
    money: list[MoneyRow]  # per location and aesthetician (payments.report)


def _minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


def weekday_counts(first: date, last: date) -> list[int]:
    """How many Mondays, Tuesdays, ... Sundays fall in [first, last]."""
    days = (last - first).days + 1
    counts = [days // 7] * 7
    for offset in range(days % 7):
        counts[(first.weekday() + offset) % 7] += 1
    return counts


def _span(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def in_period(locations: list[Location], first: date, last: date, field: str = "start") -> Q:
    """Rows whose `field` falls on [first, last] on their location's own calendar."""
    within = Q(pk__in=[])
    for location in locations:
        begin = datetime.combine(first, time(), location.zone)
        end = datetime.combine(last + timedelta(days=1), time(), location.zone)
        within |= Q(location=location, **{f"{field}__gte": begin, f"{field}__lt": end})
    return within


def before_day(locations: list[Location], day: date) -> Q:
    """Visits that started before local `day` began at their own location."""
    before = Q(pk__in=[])
    for location in locations:
        before |= Q(location=location, start__lt=datetime.combine(day, time(), location.zone))
    return before


def _courses(plans) -> Courses:
    """How far the plans got, counted in the database: one query, grouped by the planned
    number of sessions and the highest planned session completed."""
    highest_done = (
        Appointment.objects.filter(
            plan=OuterRef("pk"),
            status=Appointment.Status.COMPLETED,
            session_number__lte=OuterRef("sessions"),
        )
        .order_by("-session_number")
        .values("session_number")[:1]
    )
    groups = list(
        plans.annotate(reached=Coalesce(Subquery(highest_done), 0))
        .values("sessions", "reached")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("sessions", "reached", "n")
    )
    longest = max((sessions for sessions, _, _ in groups), default=0)
    return Courses(
        started=sum(n for _, _, n in groups),
        completed=sum(n for sessions, reached, n in groups if reached >= sessions),
        sessions=[
            SessionReach(
                number=k,
                courses=sum(n for sessions, _, n in groups if sessions >= k),
                reached=sum(n for sessions, reached, n in groups if sessions >= k <= reached),
            )
            for k in range(1, longest + 1)
        ],
    )


def _rebooking(visits, weeks: int) -> Rebooking:
    """One query: patients with a completed visit among `visits`, and those with another
    (not cancelled) visit after it that was booked by `weeks` after it ended."""
    next_visit = Appointment.objects.filter(
        patient=OuterRef("patient"),
        start__gt=OuterRef("start"),
        created_at__lte=OuterRef("end") + timedelta(weeks=weeks),
    ).exclude(status=Appointment.Status.CANCELLED)
    totals = visits.filter(status=Appointment.Status.COMPLETED).aggregate(
        patients=Count("patient", distinct=True),
        rebooked=Count("patient", distinct=True, filter=Q(Exists(next_visit))),
    )
    return Rebooking(weeks=weeks, **totals)


def _held_minutes(start_field: str):
    return Sum(
        ExpressionWrapper(F("held_until") - F(start_field), output_field=DurationField()),
        filter=HELD,
    )


def _counts():
    return {
        "bookings": Count("id", filter=HELD),
        "completed": Count("id", filter=Q(status="completed")),
        "no_shows": Count("id", filter=Q(status="no_show")),
        "late_cancellations": Count("id", filter=Q(status="cancelled", late_cancellation=True)),
    }


def _rows(grouped, names: dict[int, str], key: str, available: dict[int, int]) -> list[Row]:
    rows = [
        Row(
            name=names[values[key]],
            bookings=values["bookings"],
            completed=values["completed"],
            no_shows=values["no_shows"],
            late_cancellations=values["late_cancellations"],
            booked_minutes=_minutes(values["booked"]),
            available_minutes=available.get(values[key], 0),
        )
        for values in grouped
    ]
    seen = {row.name for row in rows}
    rows += [
        Row(name, 0, 0, 0, 0, 0, available.get(pk, 0))
        for pk, name in names.items()
        if name not in seen and available.get(pk)
    ]
    return sorted(rows, key=lambda row: row.name)


def owner_report(
    *,
    first: date,
    last: date,
    location: Location | None,
    today: date,
    rebook_weeks: int = REBOOK_WEEKS,
) -> Report:
    """The owner's figures for [first, last] at `location` (None: every location), as known
    on `today` (visits before it are past)."""
    locations = [location] if location else list(Location.objects.all())  # 1 query (or 0)
    visits = Appointment.objects.filter(in_period(locations, first, last))
    weekdays = weekday_counts(first, last)

    hours = WorkingHours.objects.filter(location__in=locations)
    working: defaultdict[int, int] = defaultdict(int)
    for provider_id, weekday, start, end in hours.values_list(  # 1 query
        "provider_id", "weekday", "start_time", "end_time"
    ):
        working[provider_id] += _span(start, end) * weekdays[weekday]
    # A room is open while anyone works at its location: first start to last end each weekday.
    opening: defaultdict[int, int] = defaultdict(int)
    for location_id, weekday, start, end in (  # 1 query
        hours.values("location_id", "weekday")
        .annotate(start=Min("start_time"), end=Max("end_time"))
        .values_list("location_id", "weekday", "start", "end")
    ):
        opening[location_id] += _span(start, end) * weekdays[weekday]

    providers = dict(Provider.objects.values_list("pk", "display_name"))  # 1 query
    rooms = {
        pk: (f"{name} ({place})" if not location else name, location_id)
        for pk, name, place, location_id in Room.objects.filter(  # 1 query
            location__in=locations
        ).values_list("pk", "name", "location__name", "location_id")
    }
    by_provider = (  # 1 query
        visits.values("provider_id")
        .annotate(**_counts(), booked=_held_minutes("provider_start"))
        .order_by()
    )
    by_room = (  # 1 query
        visits.values("room_id").annotate(**_counts(), booked=_held_minutes("start")).order_by()
    )
    totals = visits.aggregate(  # 1 query
        visits=Count("id"),
        no_shows=Count("id", filter=Q(status="no_show")),
        attended_or_not=Count("id", filter=ATTENDED_OR_NOT),
        late_cancellations=Count("id", filter=Q(status="cancelled", late_cancellation=True)),
        unresolved=Count("id", filter=UNRESOLVED & before_day(locations, today)),
    )
    unresolved = list(  # 1 query
        visits.filter(UNRESOLVED & before_day(locations, today))
        .select_related("patient", "treatment", "location", "provider")
        .order_by("start")[:UNRESOLVED_LISTED]
    )
    rebooking = _rebooking(visits, rebook_weeks)  # 1 query

    plans = TreatmentPlan.objects.all()
    if location:
        plans = plans.filter(location=location)
    plan_totals = plans.aggregate(  # 1 query
        started=Count("id", filter=in_period(locations, first, last, "created_at")),
    )
    courses = _courses(plans.filter(in_period(locations, first, last, "created_at")))  # 1 query
    completed = (  # 1 query
        plans.filter(status=TreatmentPlan.Status.COMPLETED)
        .annotate(finished=Max("appointments__end", filter=Q(appointments__status="completed")))
        .filter(in_period(locations, first, last, "finished"))
        .count()
    )
    as_of = min(last, today)
    active = schedule.plans_with_visits()
    if location:
        active = active.filter(location=location)
    overdue = sum(  # 2 queries: the plans and their visits
        1
        for plan in active
        if (session := schedule.next_session(plan, initial_only=True)) is not None
        and session.latest < as_of
    )

    # Recalls sent in the period (on the chosen location's calendar, else the first one's)
    # that the patient answered by booking: a visit of the same plan, or any maintenance visit.
    zone = (location or locations[0]).zone if locations else UTC
    recalls = Notification.objects.filter(
        kind=Notification.Kind.MAINTENANCE_RECALL,
        status=Notification.Status.SENT,
        sent_at__gte=datetime.combine(first, time(), zone),
        sent_at__lt=datetime.combine(last + timedelta(days=1), time(), zone),
    )
    later_booking = Appointment.objects.filter(
        patient=OuterRef("patient"), created_at__gt=OuterRef("sent_at")
    ).filter(Q(plan=OuterRef("plan")) | Q(kind=Appointment.Kind.MAINTENANCE))
    if location:
        recalls = recalls.filter(plan__location=location)
        later_booking = later_booking.filter(location=location)
    recall_totals = recalls.aggregate(  # 1 query
        sent=Count("id"), booked=Count("id", filter=Exists(later_booking))
    )

    return Report(
        first=first,
        last=last,
        location=location,
        aestheticians=_rows(by_provider, providers, "provider_id", working),
        rooms=_rows(
            by_room,
            {pk: name for pk, (name, _) in rooms.items()},
            "room_id",
            {pk: opening[location_id] for pk, (_, location_id) in rooms.items()},
        ),
        rates=Rates(**totals),
        plans=Plans(started=plan_totals["started"], completed=completed, overdue=overdue),
        recalls=Recalls(**recall_totals),
        courses=courses,
        rebooking=rebooking,
        unresolved=unresolved,
        money=money_rows(  # 3 queries
            locations=locations, first=first, last=last, providers=providers
        ),
    )
