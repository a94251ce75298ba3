"""Writing treatment charts: record one (which completes the visit), edit it on the day,
correct it afterwards. One transaction each; every write is audited through booking.services.

A visit's day "closes" at the end of its local calendar day in the location's time zone.
Until then the aesthetician may fix the chart in place; afterwards a correction is a new
chart that supersedes the old one, which stays on record.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from booking import formats, schedule, services
from booking.models import Appointment
from booking.services import BookingError
from charts.models import TreatmentChart, ZoneDepth
from treatments import protocols

# The chart fields a form hands to these services.
DETAIL_FIELDS = (
    "numbing_agent",
    "numbing_applied_at",
    "device",
    "cartridge_lot",
    "skin_response",
    "aftercare_given",
    "notes",
)


class ChartLocked(BookingError):
    status_code = 409


class ChartRefused(BookingError):
    """The visit has not started, or will never be charted (cancelled, no-show)."""

    status_code = 409


@dataclass(frozen=True)
class ZoneEntry:
    """One treated zone: its needle depth in millimetres and, outside the bounds, why."""

    zone: str
    depth_mm: Decimal
    outside_bounds_reason: str = ""


@dataclass(frozen=True)
class ChartSaved:
    """A saved chart and what it means for the rest of the patient's plan."""

    chart: TreatmentChart
    next_session: protocols.PlannedSession | None = None
    next_appointment: Appointment | None = None

    @property
    def next_is_outside_window(self) -> bool:
        if self.next_session is None or self.next_appointment is None:
            return False
        day = self.next_appointment.local_start.date()
        return not self.next_session.contains(day)


def day_closes_at(appointment: Appointment) -> datetime:
    """Midnight after the visit's local day, in the location's zone."""
    day = appointment.local_start.date() + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=appointment.location.zone)


def day_is_closed(appointment: Appointment, *, now: datetime) -> bool:
    return now >= day_closes_at(appointment)


def chart_refusal(appointment: Appointment, *, now: datetime) -> str | None:
    """Why `appointment` cannot be charted at `now`, or None. A visit is charted once it has
    started: the patient is checked in, or its start time has passed (the desk may not have
    checked them in). Cancelled visits and no-shows are never charted."""
    status = appointment.status
    if status in (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW):
        state = appointment.get_status_display().lower()
        return _("This visit is %(status)s; there is nothing to chart.") % {"status": state}
    if status in (Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED):
        return None
    if now < appointment.start:
        local = appointment.local_start
        return _(
            "This visit has not started yet: chart it once the patient is checked in or from "
            "%(time)s on %(day)s."
        ) % {"time": formats.clock(local), "day": formats.abbr_month_day(local)}
    return None


def depth_problem(
    depth: Decimal, low: Decimal | None, high: Decimal | None, reason: str
) -> str | None:
    """Why a depth cannot be recorded as given, or None. Outside the protocol's bounds
    (inclusive, in mm) it needs a reason; without bounds any positive depth is fine."""
    if depth <= 0:
        return _("A needle depth must be more than 0 mm.")
    if low is None or high is None or low <= depth <= high or reason.strip():
        return None
    return _(
        "%(depth)s mm is outside this protocol's %(low)s-%(high)s mm; give a reason to record it."
    ) % {"depth": depth, "low": low, "high": high}


def _check_zones(appointment: Appointment, zones: Sequence[ZoneEntry]) -> None:
    if not zones:
        raise BookingError(_("Record the needle depth of at least one treated zone."))
    if len({entry.zone for entry in zones}) != len(zones):
        raise BookingError(_("Each zone can be recorded once per chart."))
    protocol = appointment.treatment.protocol_or_none
    low = protocol.needle_depth_min_mm if protocol else None
    high = protocol.needle_depth_max_mm if protocol else None
    for entry in zones:
        problem = depth_problem(entry.depth_mm, low, high, entry.outside_bounds_reason)
        if problem:
            raise BookingError(problem)


def _write_zones(chart: TreatmentChart, zones: Sequence[ZoneEntry]) -> None:
    ZoneDepth.objects.bulk_create(
        ZoneDepth(
            chart=chart,
            zone=entry.zone,
            depth_mm=entry.depth_mm,
            outside_bounds_reason=entry.outside_bounds_reason.strip(),
        )
        for entry in zones
    )


def _locked_appointment(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("treatment__protocol", "location", "patient", "plan__location")
        .get(pk=appointment.pk)
    )


def _replan(
    appointment: Appointment, *, now: datetime
) -> tuple[protocols.PlannedSession | None, Appointment | None]:
    """The plan's next session, re-planned from the dates done so far, and its booking if any.
    (Completing the visit queued "book your next session" through the outbox.)"""
    plan = appointment.plan
    if plan is None or appointment.session_number is None:
        return None, None
    number = appointment.session_number + 1
    session = next((s for s in schedule.sessions(plan) if s.number == number), None)
    booked = (
        plan.appointments.active().filter(session_number=number).select_related("location").first()
    )
    return session, booked


@transaction.atomic
def save_chart(
    *,
    appointment: Appointment,
    details: Mapping[str, Any],
    zones: Sequence[ZoneEntry],
    now: datetime,
    actor=None,
    consent_reason: str = "",
) -> ChartSaved:
    """Chart a visit and mark it completed; on the visit's day, a second save edits the chart.
    A visit without a valid consent is completed only with `consent_reason` (consent app)."""
    appointment = _locked_appointment(appointment)
    refusal = chart_refusal(appointment, now=now)
    if refusal:
        raise ChartRefused(refusal)
    _check_zones(appointment, zones)
    values = {field: details[field] for field in DETAIL_FIELDS}
    chart = appointment.charts.current().first()
    if chart is None:
        chart = TreatmentChart.objects.create(
            appointment=appointment,
            recorded_by=services.signed_in_or_none(actor),
            recorded_at=now,
            updated_at=now,
            **values,
        )
        action = "charted"
    elif day_is_closed(appointment, now=now):
        raise ChartLocked(_("The day of this visit is closed: record a correction instead."))
    else:
        for field, value in values.items():
            setattr(chart, field, value)
        chart.updated_at = now
        chart.save()
        chart.zones.all().delete()
        action = "chart_edited"
    _write_zones(chart, zones)
    services.audit(actor=actor, action=action, appointment=appointment, now=now)
    if appointment.is_active:
        services.change_status(
            appointment=appointment,
            status=Appointment.Status.COMPLETED,
            now=now,
            actor=actor,
            reason=consent_reason,
        )
    next_session, next_appointment = _replan(appointment, now=now)
    return ChartSaved(chart=chart, next_session=next_session, next_appointment=next_appointment)


@transaction.atomic
def correct_chart(
    *,
    chart: TreatmentChart,
    details: Mapping[str, Any],
    zones: Sequence[ZoneEntry],
    reason: str,
    now: datetime,
    actor=None,
) -> TreatmentChart:
    """Record a correction: a new chart that refers to `chart`, which is kept as superseded."""
    chart = TreatmentChart.objects.select_for_update().get(pk=chart.pk)
    if chart.is_superseded:
        raise BookingError(_("This chart was already corrected; correct the latest version."))
    if not reason.strip():
        raise BookingError(_("Say what the correction fixes."))
    appointment = _locked_appointment(chart.appointment)
    _check_zones(appointment, zones)
    chart.superseded_at = now
    chart.save(update_fields=["superseded_at"])
    correction = TreatmentChart.objects.create(
        appointment=appointment,
        recorded_by=services.signed_in_or_none(actor),
        recorded_at=now,
        updated_at=now,
        corrects=chart,
        correction_reason=reason.strip(),
        **{field: details[field] for field in DETAIL_FIELDS},
    )
    _write_zones(correction, zones)
    services.audit(
        actor=actor,
        action="chart_corrected",
        appointment=appointment,
        reason=reason.strip(),
        now=now,
    )
    return correction
