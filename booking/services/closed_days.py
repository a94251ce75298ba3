"""Days a location is closed: adding the usual holidays at once."""

from collections.abc import Iterable

from django.db import transaction

from booking.holidays import us_federal_holidays
from booking.models import ClosedDay, Location


def add_us_federal_holidays(locations: Iterable[Location], *, year: int) -> int:
    """Close each location on the US federal holidays of `year`; days already closed are left
    as they are. Returns how many closed days were added."""
    holidays = us_federal_holidays(year)
    added = 0
    with transaction.atomic():
        for location in locations:
            taken = set(
                ClosedDay.objects.filter(
                    location=location, date__in=[day for day, _ in holidays]
                ).values_list("date", flat=True)
            )
            new = [
                ClosedDay(location=location, date=day, name=name)
                for day, name in holidays
                if day not in taken
            ]
            ClosedDay.objects.bulk_create(new)
            added += len(new)
    return added
