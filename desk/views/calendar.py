"""The clinic calendar: a day of every aesthetician or room, or one aesthetician's week,
drawn on the pure grid of desk/calendar.py."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from accounts.roles import front_desk_required
from booking.models import (
    Appointment,
    Location,
    Provider,
    Room,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)
from booking.routing import reads_from_replica
from desk import calendar
from desk.forms import CalendarForm
from desk.views.common import _now
from desk.views.plans import _overdue_plans


def _calendar_choices(request):
    """(location, day, view, by, provider, locations) from the query string, with defaults."""
    locations = list(Location.objects.all())
    if not locations:
        raise Http404("Add a location in the admin first.")
    form = CalendarForm(request.GET)
    form.is_valid()
    cleaned = form.cleaned_data  # the values that were good; the others fall back
    if "date" in form.errors and not (request.htmx and not request.htmx.boosted):
        messages.warning(request, f"That is not a date we can show: {form.errors['date'][0]}")
    location = cleaned.get("location") or locations[0]
    location = next((loc for loc in locations if loc.pk == location.pk), location)
    day = cleaned.get("date") or location.local(_now()).date()
    view = cleaned.get("view") or "day"
    by = cleaned.get("by") or "provider"
    return location, day, view, by, cleaned.get("provider"), locations


def _day_span(location: Location, first_day: date, last_day: date):
    start = datetime.combine(first_day, time.min, tzinfo=location.zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=location.zone)
    return start, end


@dataclass(frozen=True)
class Visit:
    """What the calendar shows of an appointment, read without building model instances."""

    pk: int
    status: str
    start: datetime
    end: datetime
    provider_id: int
    room_id: int
    first_name: str
    last_name: str
    treatment: str
    numbing_minutes: int
    plan_id: int | None
    session_number: int | None
    sessions: int | None
    provider: str
    room: str
    confirmed_via: str

    @property
    def patient(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status_label(self) -> str:
        label = str(Appointment.Status(self.status).label)
        if self.status == Appointment.Status.CONFIRMED and self.confirmed_via == "sms":
            return f"{label} by SMS"
        return label


VISIT_FIELDS = (
    "pk",
    "status",
    "start",
    "end",
    "provider_id",
    "room_id",
    "patient__first_name",
    "patient__last_name",
    "treatment__name",
    "treatment__numbing_minutes",
    "plan_id",
    "session_number",
    "plan__sessions",
    "provider__display_name",
    "room__name",
    "confirmed_via",
)


def _appointments_between(location, start, end, **filters) -> list[Visit]:
    rows = (
        Appointment.objects.filter(location=location, start__lt=end, end__gt=start, **filters)
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list(*VISIT_FIELDS)
    )
    return [Visit(*row) for row in rows]


def _block(visit: Visit) -> calendar.Block:
    return calendar.Block(
        key=visit.pk,
        start=visit.start,
        end=visit.end,
        numbing_minutes=visit.numbing_minutes,
        payload=visit,
    )


def _day_columns(location: Location, day: date, by: str):
    """Columns for the day view in a fixed number of queries, however many people and visits."""
    start, end = _day_span(location, day, day)
    appointments = _appointments_between(location, start, end)
    if by == "room":
        rooms = Room.objects.filter(location=location, is_active=True)
        # A room is open while anyone works here: from the first start to the last end.
        hours = WorkingHours.objects.filter(location=location, weekday=day.weekday())
        bounds = [(h.start_time, h.end_time) for h in hours]
        opening = ((min(b[0] for b in bounds), max(b[1] for b in bounds)),) if bounds else ()
        by_room = defaultdict(list)
        for appointment in appointments:
            by_room[appointment.room_id].append(_block(appointment))
        return [
            calendar.ColumnInput(
                key=f"room-{room.pk}",
                label=room.name,
                day=day,
                hours=opening,
                blocks=tuple(by_room[room.pk]),
            )
            for room in rooms
        ]
    providers = list(
        Provider.objects.active()
        .filter(locations=location)
        .prefetch_related(
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.filter(location=location, weekday=day.weekday()),
                to_attr="hours_today",
            )
        )
    )
    away = defaultdict(list)
    for provider_id, off_start, off_end in TimeOff.objects.filter(
        provider_id__in=[p.pk for p in providers], start__lt=end, end__gt=start
    ).values_list("provider_id", "start", "end"):
        away[provider_id].append((off_start, off_end))
    by_provider = defaultdict(list)
    for appointment in appointments:
        by_provider[appointment.provider_id].append(_block(appointment))
    return [
        calendar.ColumnInput(
            key=f"provider-{p.pk}",
            label=p.display_name,
            day=day,
            hours=tuple((h.start_time, h.end_time) for h in p.hours_today),
            away=tuple(away[p.pk]),
            blocks=tuple(by_provider[p.pk]),
            provider_id=p.pk,
        )
        for p in providers
    ]


def _week_columns(location: Location, monday: date, provider: Provider):
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = _day_span(location, days[0], days[-1])
    appointments = _appointments_between(location, start, end, provider=provider)
    hours = defaultdict(list)
    for h in WorkingHours.objects.filter(provider=provider, location=location):
        hours[h.weekday].append((h.start_time, h.end_time))
    away = list(
        TimeOff.objects.filter(provider=provider, start__lt=end, end__gt=start).values_list(
            "start", "end"
        )
    )
    by_day = defaultdict(list)
    for appointment in appointments:
        by_day[location.local(appointment.start).date()].append(_block(appointment))
    return [
        calendar.ColumnInput(
            key=f"day-{day:%Y-%m-%d}",
            label=f"{day:%a %b %-d}",
            day=day,
            hours=tuple(hours[day.weekday()]),
            away=tuple(away),
            blocks=tuple(by_day[day]),
            provider_id=provider.pk,
        )
        for day in days
    ]


def _column_html(
    column: calendar.Column, *, book_base: str, appointment_base: str, zone, subtitle: str
) -> str:
    """A column's shaded runs, free cells (links to book there) and visits. Built here rather
    than in the template: a busy day has a thousand cells, and this keeps it fast."""
    label = escape(column.label)
    day = f"{column.day:%Y-%m-%d}"
    provider = f"&amp;provider={column.provider_id}" if column.provider_id else ""
    shades = [
        f'<div class="cal-shade cal-{s.kind} gr-{s.row} gs-{s.rows}">'
        f"{'<span>Time off</span>' if s.kind == 'away' else ''}</div>"
        for s in column.shades
    ]
    cells = [
        f'<a class="cal-cell gr-{c.row}" data-time="{c.clock}" '
        f'href="{book_base}&amp;date={day}&amp;time={c.clock}{provider}">'
        f'<span class="visually-hidden">Book {c.clock}, {label}</span></a>'
        for c in column.cells
    ]
    blocks = [_block_html(placed, zone, appointment_base, subtitle) for placed in column.blocks]
    return mark_safe("".join(shades + cells + blocks))  # noqa: S308 - every value is escaped


def _block_html(placed: calendar.PlacedBlock, zone, appointment_base: str, subtitle: str) -> str:
    """One visit: time, patient, treatment, session k of n and status, coloured by status."""
    a = placed.block.payload
    start, end = a.start.astimezone(zone), a.end.astimezone(zone)
    where = ""
    if subtitle == "provider":
        where = f" · {escape(a.provider)}"
    elif subtitle == "room":
        where = f" · {escape(a.room)}"
    session = ""
    if a.plan_id and a.session_number:
        session = f" · session {a.session_number} of {a.sessions}"
    return (
        f'<a class="cal-appt status-{a.status} gr-{placed.row} gs-{placed.rows} '
        f'l{placed.lane}of{placed.lanes} nb-{placed.numbing_rows}" '
        f'href="{appointment_base}{a.pk}/" draggable="true" data-id="{a.pk}">'
        f'<span class="cal-appt-time">{start:%H:%M}–{end:%H:%M}{where}</span>'
        f'<strong class="cal-appt-patient">{escape(a.patient)}</strong>'
        f'<span class="cal-appt-what">{escape(a.treatment)}{session}</span>'
        f'<span class="cal-appt-status">{escape(a.status_label)}</span></a>'
    )


@front_desk_required
@require_GET
@reads_from_replica()
def calendar_view(request):
    location, day, view, by, provider, locations = _calendar_choices(request)
    now = _now()
    if view == "week":
        provider = provider or Provider.objects.active().filter(locations=location).first()
        if provider is None:
            view = "day"
    today = location.local(now).date()
    if view == "week":
        columns = _week_columns(location, day - timedelta(days=day.weekday()), provider)
        step = timedelta(days=7)
    else:
        columns = _day_columns(location, day, by)
        step = timedelta(days=1)
    grid = calendar.build(columns, location.zone, now=now, show_now_on=today)
    book_base = f"{reverse('desk:book')}?location={location.slug}"
    appointment_base = reverse("desk:appointment", args=[0])[:-2]
    html = {
        column.key: _column_html(
            column,
            book_base=book_base,
            appointment_base=appointment_base,
            zone=location.zone,
            # In the room view say who; in an aesthetician's week, which room.
            subtitle="provider"
            if by == "room" and view == "day"
            else "room"
            if view == "week"
            else "",
        )
        for column in grid.columns
    }
    context = {
        "location": location,
        "locations": locations,
        "day": day,
        "view": view,
        "by": by,
        "provider": provider,
        "providers": Provider.objects.active().filter(locations=location),
        "grid": grid,
        "columns": [(column, html[column.key]) for column in grid.columns],
        "previous": day - step,
        "next": day + step,
        "today": today,
        "is_today": day == today,
        "book_url": reverse("desk:book"),
        "move_url": reverse("desk:appointment_move", args=[0]),
        "overdue_count": len(_overdue_plans(now)) if view == "day" and day == today else None,
        "waiting_count": WaitlistEntry.objects.waiting().filter(location=location).count(),
    }
    partial = request.htmx and not request.htmx.boosted
    template = "staff/_calendar.html" if partial else "staff/calendar.html"
    return render(request, template, context)
