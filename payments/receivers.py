"""booking's events -> the money terms frozen with each visit, in the booking's transaction
(connected in apps.py), so every door (web, API, phone, admin) gets them."""

from booking import events
from payments import policy


def on_booked(sender, *, appointment, now, **kwargs):
    policy.freeze_terms(appointment=appointment, now=now)


def connect() -> None:
    events.appointment_booked.connect(on_booked, dispatch_uid="payments.booked")
