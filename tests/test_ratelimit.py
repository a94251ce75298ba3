"""Sign-in throttling on every door (patients' form, the admin, the API): per address and
per account, atomic under parallel attempts, and still counted (in the database) when the
Redis behind the cache is down."""

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from accounts import ratelimit
from accounts.models import SignInCounter
from tests import factories

FEW = {"sign-in": (2, 60), "sign-in-account": (2, 60), "sign-up": (2, 60), "booking": (2, 60)}


@pytest.fixture(autouse=True)
def clean_counts():
    cache.clear()
    yield
    cache.clear()


@override_settings(RATE_LIMITS=FEW)
@pytest.mark.django_db
def test_the_admin_sign_in_is_refused_after_repeated_failures(client):
    factories.UserFactory(username="owner", is_staff=True)
    for _ in range(2):
        assert (
            client.post("/admin/login/", {"username": "owner", "password": "nope"}).status_code
            == 200
        )

    response = client.post("/admin/login/", {"username": "owner", "password": "nope"})

    assert response.status_code == 429


@override_settings(RATE_LIMITS=FEW)
@pytest.mark.django_db
def test_the_api_token_endpoint_is_refused_after_repeated_failures(client):
    factories.UserFactory(username="robot")
    for _ in range(2):
        response = client.post("/api/v1/auth/token/", {"username": "robot", "password": "x"})
        assert response.status_code == 400

    response = client.post("/api/v1/auth/token/", {"username": "robot", "password": "x"})

    assert response.status_code == 429
    assert "Too many attempts" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


CLOSED_PORT_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: every call fails
    }
}
WRONG = "not the password"
MID_WINDOW = datetime(2027, 3, 1, 12, 7, 30, tzinfo=UTC)  # 7.5 minutes into a window
RIGHT = "correct horse battery staple"


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db(transaction=True)
def test_sixty_parallel_failed_sign_ins_let_only_the_limit_through(settings):
    assert "Redis" in settings.CACHES["default"]["BACKEND"], "this test needs the real Redis"
    settings.RATE_LIMITS = {"sign-in": (100, 900), "sign-in-account": (10, 900)}
    user = factories.UserFactory(username="ana@example.com")
    ready = threading.Barrier(60)
    statuses = []

    def attempt():
        try:
            client = Client()
            ready.wait()
            statuses.append(sign_in(client, user.username, WRONG).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(60)]
    # The counts live in fixed 15-minute windows: on the real clock a run that straddles a
    # window's end (07:45:00, say) counts in two windows. Hold the clock mid-window.
    with time_machine.travel(MID_WINDOW, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(statuses) == [200] * 10 + [429] * 50


@pytest.mark.django_db
def test_one_account_attacked_from_many_addresses_is_still_limited(patient):
    for n in range(10):
        assert (
            sign_in(Client(REMOTE_ADDR=f"198.51.100.{n}"), patient.user.username, WRONG).status_code
            == 200
        )

    refused = sign_in(Client(REMOTE_ADDR="203.0.113.77"), patient.user.username, RIGHT)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60


@pytest.mark.django_db
def test_a_shared_address_does_not_lock_other_accounts_out(client, patient):
    """A clinic's Wi-Fi: one person's ten failures lock their account, not the address."""
    for _ in range(11):
        sign_in(client, "someone-else@example.com", WRONG)

    assert sign_in(client, patient.user.username, RIGHT).status_code == 302


@override_settings(RATE_LIMITS={"sign-in": (5, 900), "sign-in-account": (100, 900)})
@pytest.mark.django_db
def test_many_accounts_tried_from_one_address_hit_the_per_ip_limit(client, patient):
    for n in range(5):
        sign_in(client, f"guess{n}@example.com", WRONG)

    assert sign_in(client, patient.user.username, RIGHT).status_code == 429


@override_settings(RATE_LIMITS={"sign-in-account": (3, 900)})
@pytest.mark.django_db
def test_a_successful_sign_in_does_not_use_up_a_try(patient):
    username = patient.user.username
    assert sign_in(Client(), username, WRONG).status_code == 200
    assert sign_in(Client(), username, WRONG).status_code == 200
    assert sign_in(Client(), username, RIGHT).status_code == 302
    assert sign_in(Client(), username, WRONG).status_code == 200

    assert sign_in(Client(), username, WRONG).status_code == 429


@override_settings(CACHES=CLOSED_PORT_REDIS, RATE_LIMITS={"sign-in-account": (3, 900)})
@pytest.mark.django_db
def test_with_redis_down_sign_ins_are_counted_in_the_database(patient):
    username = patient.user.username
    for _ in range(3):
        assert sign_in(Client(), username, WRONG).status_code == 200

    refused = sign_in(Client(), username, RIGHT)
    other = sign_in(Client(), "someone-else@example.com", WRONG)

    assert refused.status_code == 429
    assert other.status_code == 200
    assert SignInCounter.objects.filter(key__startswith="rate:sign-in-account:").count() == 2


@override_settings(CACHES=CLOSED_PORT_REDIS)
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_parallel_attempts_are_counted_once_each(patient):
    request = RequestFactory().post("/accounts/login/")
    ready = threading.Barrier(20)
    counts = []

    def attempt():
        try:
            ready.wait()
            counts.append(ratelimit.Counter("sign-in", "198.51.100.1", 1_800_000_000).add())
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(counts) == list(range(1, 21))
    assert ratelimit.over_limit(request, "sign-up") is False


@override_settings(CACHES=CLOSED_PORT_REDIS, RATE_LIMITS=FEW)
@pytest.mark.django_db
def test_with_redis_down_the_api_token_endpoint_still_limits_and_answers(client):
    factories.UserFactory(username="robot")
    for _ in range(2):
        response = client.post("/api/v1/auth/token/", {"username": "robot", "password": "x"})
        assert response.status_code == 400

    response = client.post("/api/v1/auth/token/", {"username": "robot", "password": "x"})

    assert response.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_client_claims():
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )

    assert ratelimit.client_ip(request) == "203.0.113.9"


def test_without_a_trusted_proxy_forwarded_for_is_ignored():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="198.51.100.4")

    assert ratelimit.client_ip(request) == "198.51.100.4"
