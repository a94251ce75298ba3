"""A course session's window as a rule: patients book and move inside it; staff may go
outside only with a reason, which is recorded on the visit."""

from datetime import date

from booking import schedule
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
    explanation = (
        f"Session {window.number} must be between {window.earliest:%b %-d} and "
        f"{window.latest:%b %-d, %Y}."
    )
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
    explanation = (
        f"Moving this visit would put session {later.number}, booked on "
        f"{later.fixed:%b %-d}, outside its window ({later.earliest:%b %-d} to "
        f"{later.latest:%b %-d}). Move that session first."
    )
    if not staff:
        raise OutsideWindow(explanation)
    if not reason.strip():
        raise OutsideWindow(f"{explanation} Or give a reason to go ahead.")
    return reason.strip()
