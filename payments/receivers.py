"""booking's events -> the money terms frozen with each visit, in the booking's transaction
(connected in apps.py), so every door (web, API, phone, admin) gets them."""

from booking import events
from payments import courses, policy, services


def on_booked(sender, *, appointment, now, confirm=True, online=False, **kwargs):
    """Freeze the visit's terms; a patient's own booking (web flow or API) owes what they
    ask online (one deposit or card for a course booked at once: its first visit's)."""
    policy.freeze_terms(appointment=appointment, now=now)
    if online and confirm:
        services.ask_online(appointment=appointment, now=now)


def on_cancelled(sender, *, appointment, now, **kwargs):
    """A late cancellation of a course paid up front uses up a prepaid session (when its
    terms say a session covers the fee), so the desk is never asked for a fee as well."""
    if appointment.late_cancellation:
        courses.use_prepaid_session(
            appointment=appointment, reason="late_cancel", actor=None, now=now
        )


def connect() -> None:
    events.appointment_booked.connect(on_booked, dispatch_uid="payments.booked")
    events.appointment_cancelled.connect(on_cancelled, dispatch_uid="payments.cancelled")
