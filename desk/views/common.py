"""Small helpers every front-desk view shares: the clock, safe lookups and redirects,
audit labels and the calendar link of a visit."""

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import pgettext_lazy

from booking import formats
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
    "booked": pgettext_lazy("audit", "Booked"),
    "rescheduled": pgettext_lazy("audit", "Moved"),
    "cancelled": pgettext_lazy("audit", "Cancelled"),
    "cancelled_late": pgettext_lazy("audit", "Cancelled late"),
    "confirmed": pgettext_lazy("audit", "Confirmed"),
    "checked_in": pgettext_lazy("audit", "Checked in"),
    "no_show": pgettext_lazy("audit", "No-show"),
    "completed": pgettext_lazy("audit", "Completed"),
    "patient_created": pgettext_lazy("audit", "Patient added"),
    "patient_edited": pgettext_lazy("audit", "Details changed"),
    "screening_override": pgettext_lazy("audit", "Screening overridden"),
    "screening_flagged": pgettext_lazy("audit", "Booked with screening flags"),
    "waitlisted": pgettext_lazy("audit", "Added to waitlist"),
}


# The names an audit entry's changes are stored under, as the desk reads them.
AUDIT_FIELDS = {
    "start": pgettext_lazy("audit field", "start"),
    "provider": pgettext_lazy("audit field", "aesthetician"),
    "room": pgettext_lazy("audit field", "room"),
    "status": pgettext_lazy("audit field", "status"),
    "screening": pgettext_lazy("audit field", "screening"),
    "waitlist": pgettext_lazy("audit field", "waitlist"),
    "offered": pgettext_lazy("audit field", "offered"),
    "user": pgettext_lazy("audit field", "account"),
    "first_name": pgettext_lazy("audit field", "first name"),
    "last_name": pgettext_lazy("audit field", "last name"),
    "phone": pgettext_lazy("audit field", "phone"),
    "email": pgettext_lazy("audit field", "email"),
    "date_of_birth": pgettext_lazy("audit field", "date of birth"),
    "email_consent": pgettext_lazy("audit field", "email reminders"),
    "sms_consent": pgettext_lazy("audit field", "SMS reminders"),
    "fitzpatrick_type": pgettext_lazy("audit field", "Fitzpatrick type"),
    "cleared_for_protocols": pgettext_lazy("audit field", "cleared for protocols"),
    "notes": pgettext_lazy("audit field", "notes"),
    "language": pgettext_lazy("audit field", "language"),
    "treatment": pgettext_lazy("audit field", "treatment"),
    "location": pgettext_lazy("audit field", "location"),
}


def _before_after(change) -> tuple:
    """A change is stored as [before, after]; money actions store the value alone."""
    if isinstance(change, list | tuple) and len(change) == 2:
        return tuple(change)
    return None, change


def _labelled(entries):
    """Audit entries with ``label`` (what happened) and ``change_rows`` ((field, before,
    after) with the field's name in the reader's language)."""
    entries = list(entries)
    for entry in entries:
        entry.label = AUDIT_LABELS.get(entry.action, entry.action.replace("_", " ").capitalize())
        entry.change_rows = [
            (AUDIT_FIELDS.get(field, field.replace("_", " ")), *_before_after(change))
            for field, change in (entry.changes or {}).items()
        ]
    return entries


def _when(location, moment) -> dict[str, str]:
    """``day`` ("Thu Mar 4", names in the active language) and ``time`` ("10:00") of an
    instant in the location's wall-clock time, for the desk's messages."""
    local = location.local(moment)
    return {"day": formats.short_date(local), "time": dateformat.format(local, "H:i")}


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _calendar_url(appointment: Appointment) -> str:
    day = appointment.location.local(appointment.start).date()
    return f"{reverse('desk:calendar')}?location={appointment.location.slug}&date={day:%Y-%m-%d}"
