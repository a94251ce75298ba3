"""/healthz: database, Redis and Celery, 200 when all answer and 503 naming what failed.

The Celery ping is replaced here; tests/test_production.py checks a real worker.
"""

import pytest
from django.db import OperationalError

from skinclinic import health


@pytest.fixture
def worker_answers(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    replies = [{"celery@web1": {"ok": "pong"}}]
    monkeypatch.setattr(health.celery_app.control, "ping", lambda **kwargs: replies)
    return replies


@pytest.mark.django_db
def test_it_is_healthy_when_everything_answers(client, worker_answers):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "redis",
        "celery",
    }
    assert body["checks"]["celery"]["workers"] == 1
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_it_fails_when_no_worker_answers(client, worker_answers):
    worker_answers.clear()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["celery"] == {
        "ok": False,
        "error": "no worker answered within 1 s",
        "ms": body["checks"]["celery"]["ms"],
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


@pytest.mark.django_db
def test_it_fails_when_redis_is_down_without_waiting_on_celery(
    client, worker_answers, settings, monkeypatch
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    def ping_must_not_run(**kwargs):
        raise AssertionError("pinged through a dead broker")

    monkeypatch.setattr(health.celery_app.control, "ping", ping_must_not_run)

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"] == "ConnectionError"
    assert checks["celery"]["ok"] is False


@pytest.mark.django_db
def test_it_fails_when_the_database_is_down_and_names_only_the_error_class(
    client, worker_answers, monkeypatch
):
    def database_down():
        raise OperationalError('connection to server at "db.internal" failed: password')

    monkeypatch.setattr(health, "check_database", database_down)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["error"] == "OperationalError"
    assert b"db.internal" not in response.content


def test_the_embedded_default_needs_no_redis_or_worker(client, settings, monkeypatch):
    settings.REDIS_URL = None
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(health, "check_database", lambda: {"ok": True})

    response = client.get("/healthz")

    assert response.status_code == 200
    assert "in-process" in response.json()["checks"]["celery"]["detail"]


def test_it_answers_get_only(client):
    assert client.post("/healthz").status_code == 405
