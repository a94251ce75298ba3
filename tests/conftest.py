from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def now():
    """A fixed Monday morning in Atlanta, 2027-03-01 08:00 EST (13:00 UTC)."""
    return datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)


@pytest.fixture
def location(db):
    return factories.LocationFactory()


@pytest.fixture
def treatment(db):
    return factories.ProtocolFactory().treatment


@pytest.fixture
def room(location, treatment):
    return factories.RoomFactory(location=location, treatments=[treatment])


@pytest.fixture
def provider(location, treatment):
    return factories.ProviderFactory(locations=[location], treatments=[treatment])


@pytest.fixture
def patient(db):
    return factories.PatientFactory()


@pytest.fixture
def front_desk(db):
    return factories.UserFactory(username="desk", groups=["Front desk"])


@pytest.fixture
def clinic(location, treatment, room, provider):
    """One location, one microneedling room and one aesthetician working weekdays 9-17."""
    return {"location": location, "treatment": treatment, "room": room, "provider": provider}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2/PBKDF2 are slow on purpose; tests only need passwords to round-trip."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
