"""Production serving: real gunicorn processes and a real Celery worker on the test database.

Two web processes on two ports share one signed-in session (nothing lives in a process's
memory or on its disk), and /healthz follows the Celery worker coming and going. Servers
use Redis database 12 and their own queue, so they never take other tests' tasks.
"""

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.auth.models import User
from django.db import connection, models
from django.templatetags.static import static

from bench._server import CeleryWorker, Gunicorn, database_url, server_env
from tests import factories
from tests.helpers import authenticator, totp_code

SERVER_REDIS = "redis://127.0.0.1:6379/12"
PASSWORD = "a long and unguessable passphrase"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def fetch(base: str, path: str, *, method="GET", cookies=None, form=None):
    """One request, no redirects followed: (status, headers, body, cookies set)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        jar = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            jar.load(value)
        return response.status, response.headers, text, {k: m.value for k, m in jar.items()}
    finally:
        conn.close()


@pytest.fixture
def env(transactional_db):
    return server_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=SERVER_REDIS,
        CELERY_QUEUE="skinclinic-production-test",
    )


@pytest.fixture
def two_web_processes(env):
    with Gunicorn(env, workers=1) as first, Gunicorn(env, workers=1) as second:
        yield first, second


@pytest.fixture
def staff_user(transactional_db):
    user = factories.UserFactory(username="owner", is_staff=True, is_superuser=True)
    # The servers run with the production hashers, not the tests' fast one.
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    authenticator(user)
    return user


def sign_in(base: str, username: str) -> dict:
    status, _, page, cookies = fetch(base, "/admin/login/")
    assert status == 200
    token = CSRF_FIELD.search(page).group(1)
    status, headers, _, signed_in = fetch(
        base,
        "/admin/login/?next=/admin/",
        method="POST",
        cookies=cookies,
        form={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": PASSWORD,
            "next": "/admin/",
        },
    )
    assert status == 302, "sign-in was refused"
    assert headers["Location"] == "/admin/"
    cookies = {**cookies, **signed_in}
    # The second step: the code from the owner's authenticator app.
    status, headers, _, _ = fetch(base, "/admin/", cookies=cookies)
    assert status == 302 and headers["Location"].startswith("/accounts/two-factor/verify/")
    status, _, page, _ = fetch(base, headers["Location"], cookies=cookies)
    status, headers, _, verified = fetch(
        base,
        "/accounts/two-factor/verify/",
        method="POST",
        cookies=cookies,
        form={
            "csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1),
            "code": totp_code(authenticator(User.objects.get(username=username))),
            "next": "/admin/",
        },
    )
    assert (status, headers["Location"]) == (302, "/admin/"), "the code was refused"
    return {**cookies, **verified}


def test_a_session_signed_in_on_one_web_process_works_on_another(two_web_processes, staff_user):
    first, second = two_web_processes
    assert first.port != second.port

    cookies = sign_in(first.url, "owner")

    status, headers, _, _ = fetch(second.url, "/admin/")
    assert status == 302 and headers["Location"].startswith("/admin/login/")
    status, _, page, _ = fetch(second.url, "/admin/", cookies=cookies)
    assert status == 200
    assert "Site administration" in page


def test_healthz_follows_the_celery_worker(two_web_processes, env):
    web = two_web_processes[0]

    status, _, body, _ = fetch(web.url, "/healthz")
    assert status == 503
    assert '"celery": {"ok": false' in body

    with CeleryWorker(env, queue=env["CELERY_QUEUE"]):
        status, _, body, _ = fetch(web.url, "/healthz")
        assert status == 200, body
        assert '"status": "ok"' in body

    status, _, body, _ = fetch(web.url, "/healthz")
    assert status == 503


def test_static_files_are_served_by_whitenoise_with_hashed_names(two_web_processes):
    # Needs `manage.py collectstatic` first, as `make test` and scripts/serve-production.sh do.
    hashed = static("css/site.css")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", hashed)

    status, headers, _, _ = fetch(two_web_processes[0].url, hashed)

    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    # A hashed name never changes content, so browsers may keep it for good.
    assert "immutable" in headers["Cache-Control"]


def test_nothing_is_kept_on_a_web_process_disk_or_in_its_memory():
    assert settings.SESSION_ENGINE in {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.cached_db",
    }
    if settings.REDIS_URL:
        assert "locmem" not in settings.CACHES["default"]["BACKEND"].lower()
    # Clinical files (photos, signed consents) are the only uploads: they go through the
    # "photos" storage, a shared S3 bucket once AWS_STORAGE_BUCKET_NAME is set
    # (docs/photos.md), never a model's own default.
    from photos.models import photo_storage

    uploads = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
        and getattr(field, "_storage_callable", None) is not photo_storage
    ]
    assert uploads == [], "uploaded files would live on one web machine's disk"
