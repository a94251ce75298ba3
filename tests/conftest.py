from datetime import datetime

import pytest
from hypothesis import settings as hypothesis_settings

from tests import factories
from tests.helpers import NEW_YORK, at, sign_in  # noqa: F401  (re-exported for older imports)

# Property tests judge behaviour, not speed: a busy CI machine must not fail them on time.
hypothesis_settings.register_profile("skinclinic", deadline=None)
hypothesis_settings.load_profile("skinclinic")


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


@pytest.fixture
def screening_rules(treatment):
    """The default screening questions (treatments.screening.DEFAULT_RULES), asked before
    the treatment."""
    from treatments.models import ScreeningRule
    from treatments.screening import DEFAULT_RULES

    rows = []
    for order, rule in enumerate(DEFAULT_RULES):
        row, _ = ScreeningRule.objects.get_or_create(
            code=rule.code,
            defaults={
                "question": rule.question,
                "outcome": rule.outcome.value,
                "lookback_days": rule.lookback_days,
                "explanation": rule.explanation,
                "display_order": order,
            },
        )
        row.treatments.add(treatment)
        rows.append(row)
    return rows


@pytest.fixture
def consultation(location, room, provider):
    """A free 30-minute consultation the clinic's room and aesthetician offer."""
    treatment = factories.TreatmentFactory(
        name="Consultation",
        is_consultation=True,
        duration_minutes=30,
        numbing_minutes=0,
        cleanup_minutes=0,
        price=0,
    )
    room.treatments.add(treatment)
    provider.treatments.add(treatment)
    return treatment


@pytest.fixture
def isolated_cache(settings):
    """A private in-memory cache, so rate-limit counts never leak between tests (or into the
    Redis that other test runs share)."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen(now):
    """The clock stopped at `now` for the code under test (views call timezone.now())."""
    import time_machine

    with time_machine.travel(now, tick=False):
        yield now


@pytest.fixture
def signed_in(client, patient, frozen):
    """The test client signed in as `patient` (after the clock stops, so the session is
    not already expired)."""
    sign_in(client, patient.user)
    return client
