"""A course session's window as a rule: patients book and move inside it; staff may go
outside only with a reason, which is recorded on the visit."""

from datetime import date

from django.utils.translation import gettext as _

from booking import formats, schedule
from booking.models import Appointment
from booking.services.errors import OutsideWindow
from treatments import protocols


def out_of_window_reason(
    window: protocols.PlannedSession | None, day: date, *, staff: bool, reason: str
) -> str:
    """ "" inside the session's window (or with no window); outside it, patients are refused
    and staff must give the reason that is then recorded."""
    if window is None or window.contains(day):
        return ""
    explanation = _("Session %(number)s must be between %(earliest)s and %(latest)s.") % {
        "number": window.number,
        "earliest": formats.abbr_month_day(window.earliest),
        "latest": formats.abbr_date(window.latest),
    }
    if not staff:
        raise OutsideWindow(explanation)
    if not reason.strip():
        raise OutsideWindow(f"{explanation} Give a reason to book it outside the window.")
    return reason.strip()


def move_reason(appointment: Appointment, new_day: date, *, staff: bool, reason: str) -> str:
    """Moving a session to local `new_day`: "" when it keeps its own window and every later
    session inside theirs; else patients are refused and staff need a reason."""
    recorded = out_of_window_reason(
        schedule.session_window(appointment), new_day, staff=staff, reason=reason
    )
    later = schedule.later_session_pushed_out(appointment, new_day)
    if later is None:
        return recorded
    explanation = _(
        "Moving this visit would put session %(number)s, booked on %(fixed)s, outside its "
        "window (%(earliest)s to %(latest)s). Move that session first."
    ) % {
        "number": later.number,
        "fixed": formats.abbr_month_day(later.fixed),
        "earliest": formats.abbr_month_day(later.earliest),
        "latest": formats.abbr_month_day(later.latest),
    }
    if not staff:
        raise OutsideWindow(explanation)
    if not reason.strip():
        raise OutsideWindow(f"{explanation} Or give a reason to go ahead.")
    return reason.strip()
