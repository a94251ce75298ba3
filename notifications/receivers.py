"""booking's events -> outbox rows, in the transaction of the change (connected in apps.py)."""

from booking import events
from notifications import planning


def on_booked(sender, *, appointment, now, confirm=True, **kwargs):
    planning.appointment_booked(appointment, now=now, confirm=confirm)


def on_rescheduled(sender, *, appointment, now, **kwargs):
    planning.appointment_rescheduled(appointment, now=now)


def on_edited(sender, *, appointment, now, **kwargs):
    planning.appointment_edited(appointment, now=now)


def on_cancelled(sender, *, appointment, now, **kwargs):
    planning.appointment_cancelled(appointment, now=now)


def on_completed(sender, *, appointment, now, **kwargs):
    planning.appointment_completed(appointment, now=now)


def on_waitlist_offered(sender, *, entry, start, now, **kwargs):
    planning.waitlist_offer(patient=entry.patient, location=entry.location, start=start, now=now)


def connect() -> None:
    uid = "notifications.%s"
    events.appointment_booked.connect(on_booked, dispatch_uid=uid % "booked")
    events.appointment_rescheduled.connect(on_rescheduled, dispatch_uid=uid % "rescheduled")
    events.appointment_edited.connect(on_edited, dispatch_uid=uid % "edited")
    events.appointment_cancelled.connect(on_cancelled, dispatch_uid=uid % "cancelled")
    events.appointment_completed.connect(on_completed, dispatch_uid=uid % "completed")
    events.waitlist_offered.connect(on_waitlist_offered, dispatch_uid=uid % "waitlist")
