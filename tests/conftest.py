from datetime import datetime

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests import factories
from tests.helpers import NEW_YORK, at, local_server, sign_in  # noqa: F401  (re-exported for older imports)

# Property tests judge behaviour, not speed: a busy CI machine must not fail them on time.
hypothesis_settings.register_profile("skinclinic", deadline=None)
hypothesis_settings.load_profile("skinclinic")


@pytest.fixture(autouse=True)
def default_language():
    """A Spanish page in one test leaves its language active in the thread: each test starts
    from the default, as a new request or a Celery task does."""
    translation.deactivate()
    yield
    translation.deactivate()


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
                "condition": rule.condition,
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


@pytest.fixture(scope="session")
def replica_cluster(django_db_setup):
    """A real streaming replica of the primary on 127.0.0.1:5433 (tests/replica.py), made after
    pytest-django created the test database so that the copy holds it; stopped and deleted
    after the session. Skipped when this machine cannot make one, unless TEST_REPLICA=1 (then
    that fails); TEST_REPLICA=0 skips it."""
    import os

    from django.conf import settings
    from django.db import connections

    from tests.replica import StandbyUnavailable, start_standby, stop_standby

    wanted = os.environ.get("TEST_REPLICA", "").strip()
    if wanted == "0":
        pytest.skip("TEST_REPLICA=0")
    primary = connections["default"].settings_dict
    problem = None
    if primary["ENGINE"] != "django.db.backends.postgresql":
        problem = "the replica tests need PostgreSQL (DATABASE_URL)"
    elif "replica" in settings.DATABASES:
        problem = "DATABASE_REPLICA_URL is set; the replica tests make their own replica"
    standby = None
    if problem is None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        try:
            standby = start_standby(
                host=primary["HOST"] or "127.0.0.1",
                port=int(primary["PORT"] or 5432),
                user=primary["USER"] or "postgres",
                dbname=primary["NAME"],  # already the test database's name
                first_port=5433 + 20 * int(worker or 0),
            )
        except StandbyUnavailable as exc:
            problem = f"{exc} (scripts/setup-test-machine.sh prepares the primary)"
    if standby is None:
        if wanted == "1":
            pytest.fail(f"TEST_REPLICA=1 but no replica: {problem}")
        pytest.skip(f"no replica: {problem}")
    yield standby
    stop_standby(standby)


@pytest.fixture
def replica(replica_cluster, transactional_db, django_db_blocker):
    """The "replica" database alias, pointing at the standby's copy of the test database, for
    one transactional test. Added after pytest-django set the test up and removed before it
    tears down, so that it never creates, flushes or blocks that alias (a read-only standby
    could not be flushed; a TEST MIRROR would send the alias to the primary)."""
    import contextlib
    import types

    from django.db import connections

    with contextlib.suppress(AttributeError):  # an old connection object for the alias
        del connections["replica"]
    primary = connections["default"].settings_dict
    connections.settings["replica"] = {
        **primary,
        "PORT": replica_cluster.port,
        "OPTIONS": {},
        "CONN_MAX_AGE": 0,
        "TEST": {**primary["TEST"], "NAME": primary["NAME"]},
    }
    # Django's test case refuses connections to aliases it does not manage; this one it must
    # not manage, so it connects the way it would outside a test.
    wrapper = connections["replica"]
    real_ensure_connection = django_db_blocker._real_ensure_connection
    wrapper.ensure_connection = types.MethodType(real_ensure_connection, wrapper)
    replica_cluster.wait_for_replay()
    try:
        yield replica_cluster
    finally:
        replica_cluster.resume_replay()
        connections["replica"].close()
        del connections["replica"]
        del connections.settings["replica"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Uploaded files (signed consents, photos) go to a fresh folder per test, never the
    checkout."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def localstripe_url():
    """A real localstripe (a Stripe-compatible server) on a free port of 127.0.0.1 for the
    session; stopped afterwards."""
    import sys
    from pathlib import Path

    program = str(Path(sys.executable).parent / "localstripe")
    with local_server("localstripe", lambda port: [program, "--port", str(port)]) as url:
        yield url


@pytest.fixture
def stripe_backend(settings, localstripe_url):
    """The Stripe backend, pointed at the session's localstripe with its data wiped."""
    import urllib.request

    from payments.backends import StripeBackend

    urllib.request.urlopen(
        urllib.request.Request(f"{localstripe_url}/_config/data", method="DELETE")
    ).close()
    settings.STRIPE_SECRET_KEY = "sk_test_skinclinic"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_skinclinic"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_skinclinic"
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    return StripeBackend()
