"""booking.routing and the read-your-writes middleware, without a running replica: which
alias a read or write picks, and when a browser is pinned to the primary
(tests/test_replica.py runs the same rules against a real streaming replica)."""

import contextlib
import time

import pytest
import time_machine
from django.db import connections, router
from django.http import HttpResponse
from django.test import RequestFactory

from booking.models import Appointment
from booking.routing import REPLICA, pinned_to_primary, read_alias, reads_from_replica
from skinclinic.middleware import READ_PRIMARY_COOKIE, ReadYourWritesMiddleware


@pytest.fixture
def replica_alias():
    """A "replica" alias in the settings (never connected to: these tests only route)."""
    connections.settings[REPLICA] = {**connections["default"].settings_dict}
    yield
    del connections.settings[REPLICA]
    # A test case may have made a connection object for it; the real replica test needs its own.
    with contextlib.suppress(AttributeError):
        del connections[REPLICA]


def test_without_a_replica_the_router_leaves_every_choice_to_django():
    with reads_from_replica():
        assert read_alias() == "default"
        assert router.db_for_read(Appointment) == "default"
        assert router.db_for_write(Appointment) == "default"


def test_only_reads_that_opt_in_go_to_the_replica(replica_alias):
    assert router.db_for_read(Appointment) == "default"
    with reads_from_replica():
        assert router.db_for_read(Appointment) == REPLICA
        assert router.db_for_write(Appointment) == "default"
        with pinned_to_primary():
            assert router.db_for_read(Appointment) == "default"
        assert router.db_for_read(Appointment) == REPLICA
    assert router.db_for_read(Appointment) == "default"


def test_reads_from_replica_is_also_a_decorator(replica_alias):
    @reads_from_replica()
    def where() -> str:
        return read_alias()

    assert where() == REPLICA
    assert read_alias() == "default"


def test_reads_inside_a_transaction_stay_on_the_primary(replica_alias, db):
    # The `db` fixture wraps the test in a transaction, as every booking service is.
    with reads_from_replica():
        assert router.db_for_read(Appointment) == "default"
        assert Appointment.objects.count() == 0


def test_migrations_never_run_on_the_replica(replica_alias):
    assert router.allow_migrate(REPLICA, "booking") is False
    assert router.allow_migrate("default", "booking") is True


def seen_by_view(request) -> tuple[str, HttpResponse]:
    """The alias a reads_from_replica() view would read from, and the response."""
    seen = []

    def view(request):
        with reads_from_replica():
            seen.append(read_alias())
        return HttpResponse("ok")

    response = ReadYourWritesMiddleware(view)(request)
    return seen[0], response


@time_machine.travel(1_800_000_000, tick=False)
def test_a_post_reads_the_primary_and_marks_the_browser_for_the_sticky_window(
    replica_alias, settings
):
    settings.DATABASE_REPLICA_STICKY_SECONDS = 30
    factory = RequestFactory()

    alias, response = seen_by_view(factory.post("/book/"))

    assert alias == "default"
    cookie = response.cookies[READ_PRIMARY_COOKIE]
    assert int(cookie.value) > time.time() + 29
    assert cookie["httponly"]

    factory.cookies[READ_PRIMARY_COOKIE] = cookie.value
    assert seen_by_view(factory.get("/staff/calendar/"))[0] == "default"
    with time_machine.travel(1_800_000_000 + 32, tick=False):
        assert seen_by_view(factory.get("/staff/calendar/"))[0] == REPLICA


@pytest.mark.parametrize("cookie", [None, "", "not-a-time", "12"])
def test_a_get_without_a_fresh_mark_reads_the_replica_and_sets_nothing(replica_alias, cookie):
    factory = RequestFactory()
    if cookie is not None:
        factory.cookies[READ_PRIMARY_COOKIE] = cookie

    alias, response = seen_by_view(factory.get("/staff/calendar/"))

    assert alias == REPLICA
    assert READ_PRIMARY_COOKIE not in response.cookies


def test_without_a_replica_the_middleware_sets_no_cookie():
    alias, response = seen_by_view(RequestFactory().post("/book/"))

    assert alias == "default"
    assert READ_PRIMARY_COOKIE not in response.cookies
