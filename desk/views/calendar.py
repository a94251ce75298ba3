"""The clinic calendar: a day of every aesthetician or room, or one aesthetician's week,
drawn on the pure grid of desk/calendar.py."""

import html
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.roles import front_desk_required
from booking import formats, services
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    Hold,
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
        raise Http404(_("Add a location in the admin first."))
    form = CalendarForm(request.GET)
    form.is_valid()
    cleaned = form.cleaned_data  # the values that were good; the others fall back
    if "date" in form.errors and not (request.htmx and not request.htmx.boosted):
        messages.warning(
            request,
            _("That is not a date we can show: %(reason)s") % {"reason": form.errors["date"][0]},
        )
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
    held_until: datetime
    confirmed_via: str

    @property
    def patient(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status_label(self) -> str:
        return _status_label(self.status, self.confirmed_via == "sms", get_language())


@lru_cache(maxsize=256)
def _status_label(status: str, by_sms: bool, language: str | None) -> str:
    """A status's label in `language` (the active one: the key keeps languages apart). A day
    shows hundreds of visits and a handful of statuses: each label is looked up once per
    process, not once per visit (the catalogue does not change while the process runs)."""
    label = str(Appointment.Status(status).label)
    if status == Appointment.Status.CONFIRMED and by_sms:
        return _("%(status)s by SMS") % {"status": label}
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
    "held_until",
    "confirmed_via",
)


def _appointments_between(location, start, end, **filters) -> list[Visit]:
    rows = (
        Appointment.objects.filter(location=location, start__lt=end, end__gt=start, **filters)
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list(*VISIT_FIELDS)
    )
    return [Visit(*row) for row in rows]


ACTIVE = {str(status) for status in ACTIVE_STATUSES}


@dataclass(frozen=True)
class Held:
    """A time a patient is booking online right now (booking.models.Hold): drawn as a block,
    "Held online until 10:42", so the desk sees why that time is not free."""

    pk: int
    start: datetime
    end: datetime
    provider_id: int
    room_id: int
    treatment: str
    numbing_minutes: int
    provider: str
    room: str
    held_until: datetime
    expires_at: datetime


HELD_FIELDS = (
    "pk",
    "start",
    "end",
    "provider_id",
    "room_id",
    "treatment__name",
    "treatment__numbing_minutes",
    "provider__display_name",
    "room__name",
    "held_until",
    "expires_at",
)


def _holds_between(location, start, end, now, **filters) -> list[Held]:
    """The live holds over [start, end) at the location: one query, however many."""
    rows = Hold.objects.filter(
        location=location, start__lt=end, held_until__gt=start, expires_at__gt=now, **filters
    ).values_list(*HELD_FIELDS)
    return [Held(*row) for row in rows]


def _rooms_full(
    location: Location, start: datetime, end: datetime, visits=None, holds: list[Held] = ()
):
    """When every active room of the location is held (by visits or online ``holds``): a cell
    then is not free for anyone, whatever an aesthetician's column shows. One query with the
    day's ``visits`` of every room already loaded, two without."""
    rooms = list(
        Room.objects.filter(location=location, is_active=True).values_list("pk", flat=True)
    )
    if visits is None:
        spans = (
            Appointment.objects.active()
            .filter(room_id__in=rooms, start__lt=end, held_until__gt=start)
            .values_list("room_id", "start", "held_until")
        )
    else:
        spans = [(v.room_id, v.start, v.held_until) for v in visits if v.status in ACTIVE]
    held = defaultdict(list)
    for room_id, held_start, held_end in [
        *spans,
        *((h.room_id, h.start, h.held_until) for h in holds),
    ]:
        held[room_id].append((held_start, held_end))
    return calendar.all_held([held[pk] for pk in rooms])


def _block(visit: Visit | Held) -> calendar.Block:
    return calendar.Block(
        key=-visit.pk if isinstance(visit, Held) else visit.pk,  # never an appointment's id
        start=visit.start,
        end=visit.end,
        numbing_minutes=visit.numbing_minutes,
        payload=visit,
        held_until=visit.held_until,
    )


def _day_columns(location: Location, day: date, by: str, now: datetime):
    """Columns for the day view in a fixed number of queries, however many people, visits
    and holds."""
    start, end = _day_span(location, day, day)
    appointments = _appointments_between(location, start, end)
    holds = _holds_between(location, start, end, now)
    if by == "room":
        rooms = Room.objects.filter(location=location, is_active=True)
        # A room is open while anyone works here: from the first start to the last end.
        hours = WorkingHours.objects.filter(location=location, weekday=day.weekday())
        bounds = [(h.start_time, h.end_time) for h in hours]
        opening = ((min(b[0] for b in bounds), max(b[1] for b in bounds)),) if bounds else ()
        by_room = defaultdict(list)
        for appointment in [*appointments, *holds]:
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
    for appointment in [*appointments, *holds]:
        by_provider[appointment.provider_id].append(_block(appointment))
    full = _rooms_full(location, start, end, appointments, holds)
    return [
        calendar.ColumnInput(
            key=f"provider-{p.pk}",
            label=p.display_name,
            day=day,
            hours=tuple((h.start_time, h.end_time) for h in p.hours_today),
            away=tuple(away[p.pk]),
            blocks=tuple(by_provider[p.pk]),
            provider_id=p.pk,
            full=full,
        )
        for p in providers
    ]


def _week_columns(location: Location, monday: date, provider: Provider, now: datetime):
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = _day_span(location, days[0], days[-1])
    appointments = _appointments_between(location, start, end, provider=provider)
    holds = _holds_between(location, start, end, now)  # all rooms: they fill rooms too
    hours = defaultdict(list)
    for h in WorkingHours.objects.filter(provider=provider, location=location):
        hours[h.weekday].append((h.start_time, h.end_time))
    away = list(
        TimeOff.objects.filter(provider=provider, start__lt=end, end__gt=start).values_list(
            "start", "end"
        )
    )
    by_day = defaultdict(list)
    for appointment in [*appointments, *(h for h in holds if h.provider_id == provider.pk)]:
        by_day[location.local(appointment.start).date()].append(_block(appointment))
    full = _rooms_full(location, start, end, holds=holds)
    return [
        calendar.ColumnInput(
            key=f"day-{day:%Y-%m-%d}",
            label=formats.short_date(day),
            day=day,
            hours=tuple(hours[day.weekday()]),
            away=tuple(away),
            blocks=tuple(by_day[day]),
            provider_id=provider.pk,
            full=full,
        )
        for day in days
    ]


@dataclass(frozen=True)
class BlockText:
    """The words of a page's columns and blocks in the request's language, looked up once per
    request: a busy day draws a thousand cells and hundreds of blocks with the same few
    strings. ``*_html`` ones are escaped (their %(time)s is filled with "09:15", which needs
    no escaping)."""

    language: str | None
    time_off_html: str
    full_title_html: str  # %(time)s
    book_html: str  # %(time)s, %(column)s (escaped)
    session: str  # %(number)s, %(sessions)s
    numbing_until: str  # %(time)s
    cleanup_until: str  # %(time)s
    numbing_to_html: str  # %(time)s
    cleanup_to_html: str  # %(time)s
    numbing_in_room: str  # %(patient)s, %(room)s, %(time)s
    check_in_html: str
    booking_online: str  # %(time)s
    held_until_html: str  # %(time)s


def _block_text() -> BlockText:
    return BlockText(
        language=get_language(),
        time_off_html=escape(_("Time off")),
        full_title_html=escape(_("%(time)s: every room is in use")),
        book_html=escape(_("Book %(time)s, %(column)s")),
        session=_("session %(number)s of %(sessions)s"),
        numbing_until=_("numbing until %(time)s"),
        cleanup_until=_("cleanup until %(time)s"),
        numbing_to_html=escape(_("Numbing to %(time)s")),
        cleanup_to_html=escape(_("Cleanup to %(time)s")),
        numbing_in_room=_("%(patient)s numbing in %(room)s until %(time)s"),
        check_in_html=escape(_("Check in")),
        booking_online=_("a patient is booking this online; held until %(time)s"),
        held_until_html=escape(_("Held online until %(time)s")),
    )


@dataclass(frozen=True)
class BlockContext:
    """What every visit block of one page needs besides its visit."""

    zone: ZoneInfo
    appointment_base: str  # "/staff/appointments/" (the visit's id and "/" follow)
    subtitle: str  # "provider", "room" or ""
    now: datetime
    csrf_token: str
    view: str
    by: str
    text: BlockText
    # A cell's HTML split where the column's name goes, per (cell, day, provider): this page's.
    cells: dict[tuple[calendar.Cell, str, str], list[str]] = field(
        default_factory=dict, compare=False
    )


def escape(text) -> str:
    """django.utils.html.escape without its lazy-string wrapper (keep_lazy), which costs more
    than the escaping itself: a busy day escapes over a thousand values, always into a string
    that is marked safe once, whole (_column_html)."""
    return html.escape(str(text))


def _column_html(column: calendar.Column, *, book_base: str, ctx: BlockContext) -> str:
    """A column's shaded runs, free cells (links to book there; past ones inert) and visits.
    Built here rather than in the template: a busy day has a thousand cells, and this keeps
    it fast."""
    label = escape(column.label)
    day = f"{column.day:%Y-%m-%d}"
    provider = f"&amp;provider={column.provider_id}" if column.provider_id else ""
    text = ctx.text
    time_off = f"<span>{text.time_off_html}</span>"
    full_title, book_text = text.full_title_html, text.book_html
    shades = [
        f'<div class="cal-shade cal-{s.kind} gr-{s.row} gs-{s.rows}">'
        f"{time_off if s.kind == 'away' else ''}</div>"
        for s in column.shades
    ]
    # Columns share their cells (calendar._cell): each cell's HTML, but for the column's name,
    # is made once per request and page, and the name joined in (as often as the words say).
    made, cells = ctx.cells, []
    for c in column.cells:
        key = (c, day, provider)
        pieces = made.get(key)
        if pieces is None:
            if c.past:
                pieces = [
                    f'<span class="cal-cell is-past gr-{c.row}" data-time="{c.clock}"></span>'
                ]
            elif c.full:
                pieces = [
                    f'<span class="cal-cell is-full gr-{c.row}" data-time="{c.clock}" '
                    f'title="{full_title % {"time": c.clock}}"></span>'
                ]
            else:
                words = book_text % {"time": c.clock, "column": "\0"}
                head = (
                    f'<a class="cal-cell gr-{c.row}" data-time="{c.clock}" '
                    f'href="{book_base}&amp;date={day}&amp;time={c.clock}{provider}">'
                    '<span class="visually-hidden">'
                )
                pieces = (f"{head}{words}</span></a>").split("\0")
            made[key] = pieces
        cells.append(pieces[0] if len(pieces) == 1 else label.join(pieces))
    blocks = [
        hold_html(placed, ctx)
        if isinstance(placed.block.payload, Held)
        else block_html(placed, ctx)
        for placed in column.blocks
    ]
    return mark_safe("".join(shades + cells + blocks))  # noqa: S308 - every value is escaped


def _column_div(column: calendar.Column, inner: str, now_html: str, today: date) -> str:
    """A column of the grid around its cells and visits (``inner``), with the line at now
    (``now_html``) in today's column."""
    provider = "" if column.provider_id is None else column.provider_id
    return (
        f'<div class="cal-col" role="group" aria-label="{escape(column.label)}" '
        f'data-provider="{provider}" data-date="{column.day:%Y-%m-%d}">\n      {inner}\n      '
        f"{now_html if column.day == today else ''}\n    </div>"
    )


def _clock(instant: datetime) -> str:
    """ "09:15": f"{instant:%H:%M}" at a quarter of its cost (strftime builds a time tuple);
    a busy day formats about a thousand times."""
    return f"{instant.hour:02d}:{instant.minute:02d}"


CHECK_IN_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def block_html(placed: calendar.PlacedBlock, ctx: BlockContext, error: str = "") -> str:
    """One visit: time, patient, treatment, session k of n and status, coloured by status;
    its numbing and cleanup drawn and labelled; a check-in button once check-in opens."""
    a = placed.block.payload
    zone, text = ctx.zone, ctx.text
    start, end = a.start.astimezone(zone), a.end.astimezone(zone)
    held = a.held_until.astimezone(zone)
    where = ""
    if ctx.subtitle == "provider":
        where = f" · {escape(a.provider)}"
    elif ctx.subtitle == "room":
        where = f" · {escape(a.room)}"
    session = ""
    if a.plan_id and a.session_number:
        session = " · " + text.session % {
            "number": a.session_number,
            "sessions": a.sessions,
        }
    numbing_end = start + timedelta(minutes=a.numbing_minutes)
    # Each time, name and label formatted once: a busy day draws hundreds of blocks.
    starts, numbing_until = _clock(start), _clock(numbing_end)
    span = f"{starts}–{_clock(end)}"
    patient = a.patient
    status_label = _status_label(a.status, a.confirmed_via == "sms", text.language)
    patient_html = escape(patient)
    title = f"{span} {patient} · {a.treatment}{session} · {status_label}"
    if a.numbing_minutes:
        title += " · " + text.numbing_until % {"time": numbing_until}
    held_clock = _clock(held)
    if held > end:
        title += " · " + text.cleanup_until % {"time": held_clock}
    short = " is-short" if placed.rows - placed.cleanup_rows <= 2 else ""
    # One line for a short visit: its start and the patient (the title has the rest).
    when = starts if short else f"{span}{where}"
    own_rows, numbing_html = placed.rows, ""
    row, numbing_rows = placed.row, placed.numbing_rows
    if placed.shares_numbing and placed.numbing_rows:
        # Numbing while the aesthetician treats someone else: drawn beside that visit, as
        # what it is (the patient waits in their room), and the block starts at treatment.
        shared_title = text.numbing_in_room % {
            "patient": patient,
            "room": a.room,
            "time": numbing_until,
        }
        numbing_to = text.numbing_to_html % {"time": numbing_until}
        numbing_html = (
            f'<div class="cal-numbing-shared gr-{row} gs-{numbing_rows}" '
            f'title="{escape(shared_title)}">'
            f"{numbing_to} · {patient_html}</div>"
        )
        row, own_rows, numbing_rows = row + numbing_rows, own_rows - numbing_rows, 0
    parts = [
        f'<div class="cal-appt status-{a.status} gr-{row} gs-{own_rows} '
        f'l{placed.lane}of{placed.lanes} nb-{numbing_rows} cu-{placed.cleanup_rows}{short}" '
        f'draggable="true" data-id="{a.pk}" title="{escape(title)}">'
    ]
    if numbing_rows:
        numbing_to = text.numbing_to_html % {"time": numbing_until}
        parts.append(f'<span class="cal-appt-numbing">{numbing_to}</span>')
    parts.append(
        f'<a class="cal-appt-link" href="{ctx.appointment_base}{a.pk}/">'
        f'<span class="cal-appt-time">{when}</span> '
        f'<strong class="cal-appt-patient">{patient_html}</strong> '
        f'<span class="cal-appt-what">{escape(a.treatment)}{session}</span> '
        f'<span class="cal-appt-status">{escape(status_label)}</span></a>'
    )
    if error:
        parts.append(f'<span class="cal-appt-error" role="alert">{escape(error)}</span>')
    if a.status in CHECK_IN_STATUSES and start - services.CHECK_IN_OPENS <= ctx.now < end:
        status_url = f"{ctx.appointment_base}{a.pk}/status/"
        parts.append(
            f'<form class="cal-checkin" method="post" action="{status_url}" '
            f'hx-post="{status_url}" hx-target="closest .cal-appt" hx-swap="outerHTML">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(ctx.csrf_token)}">'
            f'<input type="hidden" name="status" value="checked_in">'
            f'<input type="hidden" name="view" value="{escape(ctx.view)}">'
            f'<input type="hidden" name="by" value="{escape(ctx.by)}">'
            f'<button class="btn btn-sm btn-success cal-checkin-button" type="submit">'
            f'{text.check_in_html}<span class="visually-hidden"> {patient_html}</span>'
            "</button></form>"
        )
    if placed.cleanup_rows:
        cleanup_to = text.cleanup_to_html % {"time": held_clock}
        parts.append(f'<span class="cal-appt-cleanup">{cleanup_to}</span>')
    parts.append("</div>")
    return numbing_html + "".join(parts)


def hold_html(placed: calendar.PlacedBlock, ctx: BlockContext) -> str:
    """A time held online: "Held online until 10:42", over the room and aesthetician time it
    keeps (numbing and cleanup included); no patient named, nothing to click."""
    h = placed.block.payload
    assert isinstance(h, Held)
    zone = ctx.zone
    start, end = h.start.astimezone(zone), h.end.astimezone(zone)
    until = _clock(h.expires_at.astimezone(zone))
    span = f"{_clock(start)}–{_clock(end)}"
    where = ""
    if ctx.subtitle == "provider":
        where = f" · {escape(h.provider)}"
    elif ctx.subtitle == "room":
        where = f" · {escape(h.room)}"
    text = ctx.text
    title = f"{span} {h.treatment} · {h.provider} · {h.room} · " + (
        text.booking_online % {"time": until}
    )
    held_until = text.held_until_html % {"time": until}
    return (
        f'<div class="cal-hold gr-{placed.row} gs-{placed.rows} l{placed.lane}of{placed.lanes}" '
        f'data-hold="{h.pk}" title="{escape(title)}">'
        f'<span class="cal-hold-label">{held_until}</span> '
        f'<span class="cal-hold-what">{span}{where} · '
        f"{escape(h.treatment)}</span></div>"
    )


def _grid_for(location: Location, day: date, view: str, by: str, provider, now: datetime):
    if view == "week":
        columns = _week_columns(location, day - timedelta(days=day.weekday()), provider, now)
    else:
        columns = _day_columns(location, day, by, now)
    return calendar.build(columns, location.zone, now=now, show_now_on=location.local(now).date())


def _subtitle(view: str, by: str) -> str:
    """In the room view say who; in an aesthetician's week, which room."""
    if view == "week":
        return "room"
    return "provider" if by == "room" else ""


def visit_block(request, appointment: Appointment, *, view: str, by: str, error: str = ""):
    """The calendar block of one visit, redrawn after a change on the calendar (check-in):
    the same grid is built again, so its rows and lanes match the page. '' if it is not on
    that grid any more."""
    location, now = appointment.location, _now()
    view = "week" if view == "week" else "day"
    by = "room" if by == "room" else "provider"
    day = location.local(appointment.start).date()
    grid = _grid_for(location, day, view, by, appointment.provider, now)
    ctx = _block_context(request, location, now, view, by)
    for column in grid.columns:
        for placed in column.blocks:
            if placed.block.key == appointment.pk:
                return block_html(placed, ctx, error)
    return ""


def _block_context(request, location, now, view, by) -> BlockContext:
    return BlockContext(
        zone=location.zone,
        appointment_base=reverse("desk:appointment", args=[0])[:-2],
        subtitle=_subtitle(view, by),
        now=now,
        csrf_token=get_token(request),
        view=view,
        by=by,
        text=_block_text(),
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
    step = timedelta(days=7) if view == "week" else timedelta(days=1)
    grid = _grid_for(location, day, view, by, provider, now)
    book_base = f"{reverse('desk:book')}?location={location.slug}"
    ctx = _block_context(request, location, now, view, by)
    now_html = ""
    if grid.now_row is not None:
        row, minute = grid.now_row
        now_html = f'<div class="cal-now gr-{row} nm-{minute}" aria-hidden="true"></div>'
    columns_html = "".join(
        _column_div(column, _column_html(column, book_base=book_base, ctx=ctx), now_html, today)
        for column in grid.columns
    )
    # The columns' HTML (most of the page) is put in after rendering, where the template has
    # a marker: passed through it, it would be copied whole at every level of nesting
    # ({% timezone %}, the include, each block), ~3 ms of a busy day's page.
    marker = mark_safe(f"<!--columns-{secrets.token_hex(8)}-->")  # noqa: S308 - a constant
    context = {
        "location": location,
        "locations": locations,
        "day": day,
        "view": view,
        "by": by,
        "provider": provider,
        "providers": Provider.objects.active().filter(locations=location),
        "grid": grid,
        "columns_html": marker,
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
    page = render_to_string(template, context, request).split(marker)
    if len(page) != 2:  # the template does not show the marker once: render the columns in it
        context["columns_html"] = mark_safe(columns_html)  # noqa: S308 - escaped (_column_html)
        return render(request, template, context)
    return HttpResponse(columns_html.join(page))
