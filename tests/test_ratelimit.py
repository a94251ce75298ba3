"""Sign-in throttling on every door (patients' form, the admin, the API) and what happens
when the cache behind it is down."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from accounts import ratelimit
from tests import factories

FEW = {"sign-in": (2, 60), "sign-up": (2, 60), "booking": (2, 60)}


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


def test_an_unreachable_cache_lets_people_through(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(ratelimit.cache, "get", down)
    monkeypatch.setattr(ratelimit.cache, "add", down)
    request = RequestFactory().post("/accounts/login/")

    assert ratelimit.is_limited(request, "sign-in") is False
    assert ratelimit.over_limit(request, "sign-in") is False


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_client_claims():
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )

    assert ratelimit.client_ip(request) == "203.0.113.9"


def test_without_a_trusted_proxy_forwarded_for_is_ignored():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="198.51.100.4")

    assert ratelimit.client_ip(request) == "198.51.100.4"
