"""How many bookings a patient may make online: counted per patient in the database, so the
limit holds whichever door they come through (web flow, API) and on every web process."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from booking.models import AuditEntry, Location, Patient
from booking.services.errors import TooManyBookings

WINDOW = timedelta(hours=1)
COURSE_SESSION = "course_session"  # changes key of a course's later sessions: one booking


def bookings_per_hour() -> int:
    return getattr(settings, "PATIENT_BOOKINGS_PER_HOUR", 10)


def check_booking_limit(*, patient: Patient, location: Location, now: datetime) -> None:
    """Refuse a patient's own booking once they made the hour's allowance of them (a course
    booked at once counts as one)."""
    made = (
        AuditEntry.objects.filter(
            patient=patient, action="booked", at__gt=now - WINDOW, at__lte=now
        )
        .exclude(actor__isnull=True)
        .exclude(changes__has_key=COURSE_SESSION)
        .filter(actor_id=patient.user_id)
        .count()
    )
    if made >= bookings_per_hour():
        values = {"made": made, "location": location, "phone": location.phone}
        if location.phone:
            message = _(
                "You have made %(made)s bookings in the last hour, the most we take online. "
                "Please call %(location)s on %(phone)s to book more."
            )
        else:
            message = _(
                "You have made %(made)s bookings in the last hour, the most we take online. "
                "Please call %(location)s to book more."
            )
        raise TooManyBookings(message % values)
