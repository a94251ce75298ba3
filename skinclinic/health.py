"""/healthz: is this web process able to serve? For load balancers and monitoring.

Checks the database, Redis and that at least one Celery worker answers a ping. Answers JSON,
200 when every check passes and 503 naming what failed. Error details are limited to the
exception's class, so the page leaks no host names or credentials. Without REDIS_URL (the
embedded default) Celery runs tasks in-process and there is no Redis to check.
"""

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from skinclinic.celery import app as celery_app

TIMEOUT_SECONDS = 1.0


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "not configured: tasks run in-process"}
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True}


def check_celery() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "detail": "eager: tasks run in-process"}
    # limit=1 returns as soon as one worker answers instead of waiting out the timeout.
    replies = celery_app.control.ping(timeout=TIMEOUT_SECONDS, limit=1)
    if not replies:
        return {"ok": False, "error": "no worker answered within 1 s"}
    return {"ok": True, "workers": len(replies)}


def _run(check) -> dict:
    began = time.perf_counter()
    try:
        result = check()
    except Exception as error:  # any failure of a dependency is a failed check, never a 500
        result = {"ok": False, "error": type(error).__name__}
    result["ms"] = round((time.perf_counter() - began) * 1000, 1)
    return result


@never_cache
@require_GET
def healthz(request):
    results = {"database": _run(check_database), "redis": _run(check_redis)}
    if results["redis"]["ok"]:
        results["celery"] = _run(check_celery)
    else:  # a ping through a dead broker would hang on reconnecting
        results["celery"] = {"ok": False, "error": "the broker (Redis) is unreachable"}
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results},
        status=200 if healthy else 503,
    )
