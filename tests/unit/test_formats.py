"""Clock times as patients read them (booking.formats.clock): each distinct wall-clock time is
formatted once per language and format, so the same instant in two zones, or the same time in
two languages, must still read differently."""

from datetime import UTC, datetime, time
from unittest import mock
from zoneinfo import ZoneInfo

from django.utils import translation

from booking import formats

INSTANT = datetime(2027, 3, 4, 15, 5, tzinfo=UTC)


def test_the_same_instant_reads_on_each_zones_wall_clock():
    with translation.override("en"):
        assert formats.clock(INSTANT.astimezone(ZoneInfo("America/New_York"))) == "10:05 AM"
        assert formats.clock(INSTANT.astimezone(ZoneInfo("Europe/Madrid"))) == "4:05 PM"
        assert formats.clock(INSTANT) == "3:05 PM"


def test_each_language_keeps_its_own_format():
    with translation.override("en"):
        assert formats.clock(time(16, 5)) == "4:05 PM"
    with translation.override("es"):
        assert formats.clock(time(16, 5)) == "16:05"
        assert formats.clock(INSTANT.astimezone(ZoneInfo("America/New_York"))) == "10:05"
    with translation.override("en"):
        assert formats.clock(time(16, 5)) == "4:05 PM"
        assert formats.clock(None) == ""


def test_a_format_that_names_the_zone_is_formatted_every_time():
    """A translation may put the zone in (T): that text is not kept per wall-clock time."""
    new_york = INSTANT.astimezone(ZoneInfo("America/New_York"))
    madrid = datetime(2027, 3, 4, 10, 5, tzinfo=ZoneInfo("Europe/Madrid"))  # the same 10:05
    with mock.patch.object(formats, "pgettext", return_value="H:i T"):
        assert formats.clock(new_york) == "10:05 EST"
        assert formats.clock(madrid) == "10:05 CET"
