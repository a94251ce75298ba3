"""Small helpers every front-desk view shares: the clock, safe lookups and redirects,
audit labels and the calendar link of a visit."""

from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from booking.models import Appointment


def _now():
    return timezone.now()


def _by_pk(model, value):
    return model.objects.filter(pk=value).first() if str(value or "").isdigit() else None


def _next_or(request, default: str) -> str:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()})
    return target if target and safe else default


AUDIT_LABELS = {
    "booked": "Booked",
    "rescheduled": "Moved",
    "cancelled": "Cancelled",
    "cancelled_late": "Cancelled late",
    "confirmed": "Confirmed",
    "checked_in": "Checked in",
    "no_show": "No-show",
    "completed": "Completed",
    "patient_created": "Patient added",
    "patient_edited": "Details changed",
    "screening_override": "Screening overridden",
    "screening_flagged": "Booked with screening flags",
    "waitlisted": "Added to waitlist",
}


def _labelled(entries):
    entries = list(entries)
    for entry in entries:
        entry.label = AUDIT_LABELS.get(entry.action, entry.action.replace("_", " ").capitalize())
    return entries


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _calendar_url(appointment: Appointment) -> str:
    day = appointment.location.local(appointment.start).date()
    return f"{reverse('desk:calendar')}?location={appointment.location.slug}&date={day:%Y-%m-%d}"
