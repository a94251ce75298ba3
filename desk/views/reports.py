"""/staff/reports/: the owner's figures over a chosen period, as charts and as CSV."""

import csv
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import front_desk_required
from booking.dates import check_year
from booking.models import Location
from booking.routing import reads_from_replica
from desk import reports

LONGEST_PERIOD_DAYS = 366


class ReportPeriodForm(forms.Form):
    first = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
        validators=[check_year],
    )
    last = forms.DateField(
        label=gettext_lazy("To"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
        validators=[check_year],
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(),
        required=False,
        empty_label=gettext_lazy("All locations"),
        label=gettext_lazy("Location"),
        to_field_name="slug",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                raise forms.ValidationError(_("The end of the period is before its start."))
            if (last - first).days + 1 > LONGEST_PERIOD_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)s days.") % {"days": LONGEST_PERIOD_DAYS}
                )
        return data


def _today(location: Location | None) -> date:
    """Today at the chosen location; for every location, at the first one (the calendar the
    report already counts recalls on)."""
    location = location or Location.objects.first()
    now = timezone.now()
    return location.local(now).date() if location else now.date()


def _period_form(request) -> ReportPeriodForm:
    """The form bound to the query string, or to the last 30 days when there is none."""
    if {"first", "last"} & set(request.GET):
        return ReportPeriodForm(request.GET)
    location = Location.objects.filter(slug=request.GET.get("location") or None).first()
    today = _today(location)
    return ReportPeriodForm(
        {
            "first": today - timedelta(days=29),
            "last": today,
            "location": location.slug if location else "",
        }
    )


def _report(form: ReportPeriodForm) -> reports.Report:
    data = form.cleaned_data
    return reports.owner_report(
        first=data["first"],
        last=data["last"],
        location=data["location"],
        today=_today(data["location"]),
    )


def _query(form: ReportPeriodForm) -> str:
    """The period as a query string, for the CSV link."""
    data = form.cleaned_data
    location = data["location"]
    return urlencode(
        {
            "first": data["first"],
            "last": data["last"],
            "location": location.slug if location else "",
        }
    )


def _bars(rows: list[reports.Row], value) -> list[dict]:
    """Count charts: label, value and the bar's length in percent of the longest."""
    values = [value(row) for row in rows]
    top = max(values, default=0) or 1
    return [
        {"label": row.name, "value": v, "width": round(100 * v / top, 1)}
        for row, v in zip(rows, values, strict=True)
    ]


def _percent_bars(items, label, fraction) -> list[dict]:
    """Rate charts on a fixed 0-100% scale: 1% is drawn 1% wide, whatever the others are.
    Over 100% (overtime) is drawn full and labelled as it is."""
    bars = []
    for item in items:
        share = 100 * fraction(item)
        bars.append(
            {"label": label(item), "value": f"{share:.0f}%", "width": round(min(share, 100), 1)}
        )
    return bars


@front_desk_required
@require_GET
@reads_from_replica()
def report(request):
    form = _period_form(request)
    context = {"form": form}
    if form.is_valid():
        result = _report(form)
        context.update(
            report=result,
            query=_query(form),
            charts=[
                (_("Bookings per aesthetician"), _bars(result.aestheticians, lambda r: r.bookings)),
                (
                    _("Utilisation per aesthetician (0-100%)"),
                    _percent_bars(result.aestheticians, _name, _utilisation),
                ),
                (_("Bookings per room"), _bars(result.rooms, lambda r: r.bookings)),
                (
                    _("Utilisation per room (0-100%)"),
                    _percent_bars(result.rooms, _name, _utilisation),
                ),
            ],
            course_bars=_course_bars(result.courses),
        )
    return render(request, "staff/reports.html", context, status=200 if form.is_valid() else 400)


def _course_bars(courses: reports.Courses) -> list[dict]:
    """Drop-off per session: of the courses with a session k, the share that reached it."""
    bars = _percent_bars(
        courses.sessions, lambda s: _("Session %(number)s") % {"number": s.number}, lambda s: s.rate
    )
    return [
        bar | {"reached": session.reached, "courses": session.courses}
        for bar, session in zip(bars, courses.sessions, strict=True)
    ]


def _name(row: reports.Row) -> str:
    return row.name


def _utilisation(row: reports.Row) -> float:
    return row.utilisation


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}"


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
@require_GET
@reads_from_replica()
def report_csv(request):
    """The same figures as one CSV table: a section column, then the figures."""
    form = _period_form(request)
    if not form.is_valid():
        return HttpResponse(
            " ".join(m for errors in form.errors.values() for m in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    result = _report(form)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    where = result.location.slug if result.location else "all"
    response["Content-Disposition"] = (
        f'attachment; filename="skinclinic-{where}-{result.first}-{result.last}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["period", result.first, result.last, where])
    writer.writerow(
        [
            "section",
            "name",
            "bookings",
            "completed",
            "no_shows",
            "late_cancellations",
            "booked_minutes",
            "available_minutes",
            "utilisation_percent",
        ]
    )
    for section, rows in (("aesthetician", result.aestheticians), ("room", result.rooms)):
        for row in rows:
            writer.writerow(
                [
                    section,
                    _safe(row.name),
                    row.bookings,
                    row.completed,
                    row.no_shows,
                    row.late_cancellations,
                    row.booked_minutes,
                    row.available_minutes,
                    _percent(row.utilisation),
                ]
            )
    rates, plans, recalls = result.rates, result.plans, result.recalls
    courses, rebooking = result.courses, result.rebooking
    for name, value in (
        ("visits", rates.visits),
        ("past_visits_with_outcome", rates.attended_or_not),
        ("past_visits_still_booked", rates.unresolved),
        ("no_shows", rates.no_shows),
        ("no_show_rate_percent", _percent(rates.no_show_rate)),
        ("late_cancellations", rates.late_cancellations),
        ("late_cancel_rate_percent", _percent(rates.late_cancel_rate)),
        ("plans_started", plans.started),
        ("plans_completed", plans.completed),
        ("plans_overdue", plans.overdue),
        ("maintenance_recalls_sent", recalls.sent),
        ("maintenance_recalls_booked", recalls.booked),
        ("maintenance_recall_booking_rate_percent", _percent(recalls.rate)),
        ("rebooking_weeks", rebooking.weeks),
        ("patients_with_a_completed_visit", rebooking.patients),
        ("patients_rebooked", rebooking.rebooked),
        ("rebooking_rate_percent", _percent(rebooking.rate)),
        ("courses_started", courses.started),
        ("courses_completed", courses.completed),
        ("course_completion_rate_percent", _percent(courses.completion_rate)),
    ):
        writer.writerow(["total", name, value])
    writer.writerow(["section", "session", "courses_with_the_session", "reached", "percent"])
    for session in courses.sessions:
        writer.writerow(
            [
                "course_session",
                session.number,
                session.courses,
                session.reached,
                _percent(session.rate),
            ]
        )
    writer.writerow(
        [
            "section",
            "location",
            "aesthetician",
            "currency",
            "revenue",
            "deposits",
            "fees_charged",
            "fees_waived",
            "refunds",
        ]
    )
    for money in result.money:
        writer.writerow(
            [
                "money",
                _safe(money.location),
                _safe(money.aesthetician),
                money.currency,
                money.revenue.amount,
                money.deposits,
                money.fees_charged,
                money.fees_waived,
                money.refunds,
            ]
        )
    writer.writerow(["section", "visit", "start", "patient", "treatment", "status"])
    for visit in result.unresolved:
        writer.writerow(
            [
                "still_booked",
                visit.pk,
                visit.local_start.isoformat(),
                _safe(visit.patient.full_name),
                _safe(visit.treatment.name),
                visit.status,
            ]
        )
    return response


def _safe(text: str) -> str:
    """Names that a spreadsheet would run as a formula get a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
