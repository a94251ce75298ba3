"""skinclinic/settings.py: embedded defaults, production defaults, and refusing bad values.

Each case imports the settings in a fresh interpreter with a clean environment, because the
settings are read once per process.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
LOAD_SETTINGS = "import django; from django.conf import settings; settings.INSTALLED_APPS"
PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://skinclinic@db.internal:5432/skinclinic",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "book.skinclinic.example",
    "SITE_URL": "https://book.skinclinic.example",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "skinclinic.settings",
        # Never touch the checkout's own db.sqlite3 from a test.
        "SQLITE_PATH": "/nonexistent/skinclinic-test.sqlite3",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def show(*names: str, **env: str) -> list[str]:
    """The repr of each named setting, as a fresh process with `env` sees it."""
    code = "from django.conf import settings\n" + "".join(
        f"print(repr({name}))\n" for name in names
    )
    result = run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("DEBUG", {"DEBUG": "maybe"}),
        ("DATABASE_URL", {"DATABASE_URL": "nonsense://x"}),
        ("DATABASE_URL", {"DATABASE_URL": "postgres://"}),
        ("REDIS_URL", {"REDIS_URL": "http://x"}),
        ("EMAIL_PORT", {"EMAIL_PORT": "abc"}),
        ("EMAIL_USE_TLS", {"EMAIL_USE_TLS": "sometimes"}),
        ("SECURE_HSTS_SECONDS", {**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "a year"}),
        ("SECRET_KEY", {"DEBUG": "false"}),
        ("SECRET_KEY", {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]}),
    ],
)
def test_it_refuses_a_malformed_value_naming_the_variable(variable, env):
    result = run(["-c", LOAD_SETTINGS], **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_the_embedded_default_uses_sqlite_eager_celery_and_the_console():
    engine, eager, debug, email = show(
        "settings.DATABASES['default']['ENGINE']",
        "settings.CELERY_TASK_ALWAYS_EAGER",
        "settings.DEBUG",
        "settings.EMAIL_BACKEND",
    )

    assert engine == "'django.db.backends.sqlite3'"
    assert eager == "True"
    assert debug == "True"
    assert "console" in email


def test_production_settings_turn_debug_off_and_use_postgres_and_redis():
    engine, eager, debug, secure_cookies = show(
        "settings.DATABASES['default']['ENGINE']",
        "settings.CELERY_TASK_ALWAYS_EAGER",
        "settings.DEBUG",
        "settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE",
        REDIS_URL="redis://cache.internal:6379/0",
        **PRODUCTION_ENV,
    )

    assert engine == "'django.db.backends.postgresql'"
    assert eager == "False"
    assert debug == "False"
    assert secure_cookies == "True"


def test_production_settings_pass_the_deploy_checks():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        REDIS_URL="redis://cache.internal:6379/0",
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_checks_refuse_the_local_site_url_in_production():
    env = {**PRODUCTION_ENV, "REDIS_URL": "redis://cache.internal:6379/0"}
    del env["SITE_URL"]

    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)

    assert result.returncode == 1
    assert "skinclinic.W001" in result.stderr
    assert "http://127.0.0.1:8000" in result.stderr
