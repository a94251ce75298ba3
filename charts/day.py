"""An aesthetician's day sheet: each visit with what they need to know before the patient
sits down. Built in a fixed number of queries whatever the number of visits."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import queries, services
from booking.models import Appointment, Patient, Provider, ScreeningAnswer, WorkingHours
from charts.models import TreatmentChart, ZoneDepth
from consent.services import ConsentStatus, statuses_for

PREVIOUS_SESSIONS_SHOWN = 3


@dataclass(frozen=True)
class ScreeningNote:
    question: str
    outcome: str
    detail: str = ""


@dataclass
class Visit:
    appointment: Appointment
    age: int | None
    session_label: str
    screening_notes: list[ScreeningNote] = field(default_factory=list)
    unanswered: int = 0
    answers_on: date | None = None
    chart: TreatmentChart | None = None
    previous: list[TreatmentChart] = field(default_factory=list)
    chart_refusal: str | None = None  # why it cannot be charted now (not started, cancelled)
    consent: ConsentStatus | None = None

    @property
    def consent_label(self) -> str:
        return self.consent.label(self.appointment.location.zone) if self.consent else ""

    @property
    def treatment_start(self) -> datetime:
        """When the aesthetician is needed: after the numbing, on the location's clock."""
        return self.appointment.location.local(self.appointment.provider_start)

    @property
    def needs_reconfirming(self) -> bool:
        """Answers are re-confirmed before every session, i.e. on the visit's own day."""
        return self.answers_on is None or self.answers_on < self.appointment.local_start.date()


def home_zone(provider: Provider, now: datetime | None = None) -> ZoneInfo:
    """What "today" means on the aesthetician's sheet: the zone of the location where they
    work on today's weekday (today as that location counts it), else their first location's."""
    now = now or timezone.now()
    hours = WorkingHours.objects.filter(provider=provider).select_related("location")
    for block in hours.order_by("start_time", "location__name"):
        if block.location.local(now).weekday() == block.weekday:
            return block.location.zone
    location = provider.locations.order_by("name").first()
    return location.zone if location else ZoneInfo("UTC")


def age_on(patient: Patient, day: date) -> int | None:
    born = patient.date_of_birth
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def session_label(appointment: Appointment) -> str:
    plan, number = appointment.plan, appointment.session_number
    if plan is None or number is None:
        if appointment.kind == Appointment.Kind.SINGLE:
            return _("Single visit")
        return appointment.get_kind_display().capitalize()
    if number <= plan.sessions:
        return _("Session %(number)s of %(sessions)s") % {
            "number": number,
            "sessions": plan.sessions,
        }
    return _("Maintenance session %(number)s") % {"number": number - plan.sessions}


def day_sheet(provider: Provider, day: date, tz: ZoneInfo) -> list[Visit]:
    """The provider's visits on local `day` in `tz`, in time order, cancelled ones left out."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    appointments = list(
        Appointment.objects.for_provider(provider)
        .filter(start__gte=start, start__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "treatment__protocol", "location", "room", "plan")
        .prefetch_related("treatment__screening_rules")
        .order_by("start")
    )
    if not appointments:
        return []
    patient_ids = {a.patient_id for a in appointments}
    treatment_ids = {a.treatment_id for a in appointments}

    latest_answers = queries.latest_screening_answers_by_patient(patient_ids)

    charts_by_patient_treatment = defaultdict(list)
    charts = (
        TreatmentChart.objects.current()
        .for_patients_and_treatments(patient_ids, treatment_ids)
        .filter(appointment__start__lt=end)
        .select_related("appointment__location")
        .prefetch_related(Prefetch("zones", queryset=ZoneDepth.objects.order_by("id")))
        .order_by("-appointment__start")
    )
    for chart in charts:
        key = (chart.appointment.patient_id, chart.appointment.treatment_id)
        charts_by_patient_treatment[key].append(chart)

    consents = statuses_for(appointments)

    visits = []
    for appointment in appointments:
        local_day = appointment.local_start.date()
        visit = Visit(
            appointment=appointment,
            age=age_on(appointment.patient, local_day),
            session_label=session_label(appointment),
            consent=consents[appointment.pk],
        )
        _screen(visit, latest_answers.get(appointment.patient_id, {}), local_day)
        for chart in charts_by_patient_treatment[appointment.patient_id, appointment.treatment_id]:
            if chart.appointment_id == appointment.pk:
                visit.chart = chart
            elif chart.appointment.start < appointment.start:
                visit.previous.append(chart)
        visit.previous = visit.previous[:PREVIOUS_SESSIONS_SHOWN]
        visits.append(visit)
    return visits


def _screen(visit: Visit, latest: dict[str, ScreeningAnswer], day: date) -> None:
    appointment = visit.appointment
    result = services.screening_for(appointment.patient, appointment.treatment, day, latest=latest)
    rules = {rule.code: rule for rule in appointment.treatment.screening_rules.all()}
    for fired in result.triggered:
        rule, answer = rules[fired.code], latest[fired.code]
        detail = f"last {answer.last_occurred:%b %-d, %Y}" if answer.last_occurred else ""
        visit.screening_notes.append(
            ScreeningNote(question=rule.question, outcome=rule.get_outcome_display(), detail=detail)
        )
    visit.unanswered = len(result.unanswered)
    given = [latest[code] for code in rules if code in latest]
    if given:
        tz = appointment.location.zone
        visit.answers_on = min(a.answered_at for a in given).astimezone(tz).date()
