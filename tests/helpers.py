"""Helpers every test module shares: one way to say a local time, one way to book."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking import services
from booking.models import Appointment

NEW_YORK = ZoneInfo("America/New_York")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Atlanta (the test clinic's zone) on a date."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def book(clinic, patient, start: datetime, now: datetime, **kwargs) -> Appointment:
    """A visit of the clinic's treatment through the booking service: the patient's own
    booking unless `staff=True` is passed (the desk booked it)."""
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=now,
        **kwargs,
    )
