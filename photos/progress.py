"""A course's progress, zone by zone: the one read model the staff and portal pages share.

Three queries whatever the number of sessions, zones or photos: the plan's visits, their
current charts with depths, and the photos the viewer may see.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from booking.models import Appointment, TreatmentPlan
from charts.models import TreatmentChart, Zone
from photos.models import Photo

__all__ = ["Progress", "SessionCell", "ZoneRow", "progress"]


@dataclass
class SessionCell:
    """One session of one zone: its photos and what the chart says about that zone."""

    appointment: Appointment
    number: int | None
    day: date
    before: list[Photo] = field(default_factory=list)
    after: list[Photo] = field(default_factory=list)
    depth_mm: Decimal | None = None
    notes: str = ""


@dataclass
class ZoneRow:
    zone: str
    label: str
    cells: list[SessionCell]

    @property
    def first_before(self) -> Photo | None:
        """The earliest "before" photo: the start of the comparison."""
        return next((c.before[0] for c in self.cells if c.before), None)

    @property
    def last_after(self) -> Photo | None:
        """The latest "after" photo: the end of the comparison."""
        return next((c.after[-1] for c in reversed(self.cells) if c.after), None)

    @property
    def first_cell(self) -> SessionCell | None:
        return next((c for c in self.cells if c.before), None)

    @property
    def last_cell(self) -> SessionCell | None:
        return next((c for c in reversed(self.cells) if c.after), None)


@dataclass
class Progress:
    plan: TreatmentPlan
    zones: list[ZoneRow]

    @property
    def photo_count(self) -> int:
        return sum(len(c.before) + len(c.after) for row in self.zones for c in row.cells)


def progress(plan: TreatmentPlan, photos: QuerySet[Photo], *, charted_zones=True) -> Progress:
    """The zones of `plan` that have photos in `photos` (already narrowed to what the viewer
    may see) or, with `charted_zones`, a charted depth; each with one cell per visit of the
    plan in date order. Cancelled and no-show visits are left out."""
    visits = list(
        plan.appointments.exclude(
            status__in=[Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW]
        )
        .select_related("location")
        .prefetch_related(
            Prefetch(
                "charts",
                queryset=TreatmentChart.objects.current().prefetch_related("zones"),
                to_attr="current_charts",
            )
        )
        .order_by("start")
    )
    shown = list(
        photos.filter(appointment__plan=plan)
        .select_related("appointment")
        .order_by("uploaded_at", "id")
    )
    by_visit_zone: dict[tuple[int, str], list[Photo]] = {}
    for photo in shown:
        by_visit_zone.setdefault((photo.appointment_id, photo.zone), []).append(photo)
    zones_used = {photo.zone for photo in shown}
    depths: dict[tuple[int, str], Decimal] = {}
    notes: dict[int, str] = {}
    for visit in visits:
        for chart in visit.current_charts:
            notes[visit.pk] = chart.notes
            for depth in chart.zones.all():
                depths[(visit.pk, depth.zone)] = depth.depth_mm
                if charted_zones:
                    zones_used.add(depth.zone)
    rows = []
    for zone in Zone:
        if zone.value not in zones_used:
            continue
        cells = []
        for visit in visits:
            taken = by_visit_zone.get((visit.pk, zone.value), [])
            cells.append(
                SessionCell(
                    appointment=visit,
                    number=visit.session_number,
                    day=visit.local_start.date(),
                    before=[p for p in taken if p.kind == Photo.Kind.BEFORE],
                    after=[p for p in taken if p.kind == Photo.Kind.AFTER],
                    depth_mm=depths.get((visit.pk, zone.value)),
                    notes=notes.get(visit.pk, ""),
                )
            )
        rows.append(ZoneRow(zone=zone.value, label=str(zone.label), cells=cells))
    return Progress(plan=plan, zones=rows)
