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
        ("SMS_SEND_DELAY", {"SMS_SEND_DELAY": "abc"}),
        ("LOG_LEVEL", {"LOG_LEVEL": "VERBOSE"}),
        ("DATABASE_POOL", {**PRODUCTION_ENV, "DATABASE_POOL": "perhaps"}),
        ("SENTRY_DSN", {"SENTRY_DSN": "not a dsn"}),
        ("SECURE_HSTS_SECONDS", {**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "a year"}),
        ("DATABASE_REPLICA_URL", {**PRODUCTION_ENV, "DATABASE_REPLICA_URL": "nonsense://x"}),
        ("DATABASE_REPLICA_URL", {"DATABASE_REPLICA_URL": "postgres://replica/skinclinic"}),
        (
            "DATABASE_REPLICA_STICKY_SECONDS",
            {"DATABASE_REPLICA_STICKY_SECONDS": "half a minute"},
        ),
        ("MAIL_PROVIDER", {"MAIL_PROVIDER": "carrier-pigeon"}),
        ("MAILGUN_WEBHOOK_SIGNING_KEY", {"MAIL_PROVIDER": "mailgun", "MAILGUN_API_KEY": "k"}),
        ("ANYMAIL_WEBHOOK_SECRET", {"MAIL_PROVIDER": "postmark", "POSTMARK_SERVER_TOKEN": "t"}),
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


def test_a_mail_provider_sends_through_anymail():
    backend, key = show(
        "settings.EMAIL_BACKEND",
        "settings.ANYMAIL['MAILGUN_WEBHOOK_SIGNING_KEY']",
        MAIL_PROVIDER="mailgun",
        MAILGUN_API_KEY="key-1",
        MAILGUN_SENDER_DOMAIN="mg.clinic.example",
        MAILGUN_WEBHOOK_SIGNING_KEY="signing-1",
    )

    assert backend == "'anymail.backends.mailgun.EmailBackend'"
    assert key == "'signing-1'"


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


def test_the_bad_value_is_quoted_in_the_message():
    result = run(["-c", LOAD_SETTINGS], SMS_SEND_DELAY="abc")

    assert "SMS_SEND_DELAY must be a number, not 'abc'." in result.stderr


def test_a_log_level_is_read_in_any_case():
    (level,) = show("settings.LOGGING['root']['level']", LOG_LEVEL="warning")

    assert level == "'WARNING'"


def test_postgresql_uses_the_connection_pool_unless_switched_off():
    pooled, max_age = show(
        "settings.DATABASES['default']['OPTIONS'].get('pool')",
        "settings.DATABASES['default']['CONN_MAX_AGE']",
        DATABASE_POOL_MAX_SIZE="8",
        **PRODUCTION_ENV,
    )
    assert pooled == "{'min_size': 1, 'max_size': 8, 'timeout': 10.0}"
    assert max_age == "0"  # Django refuses a pool with persistent connections

    (unpooled,) = show(
        "settings.DATABASES['default'].get('OPTIONS', {}).get('pool')",
        DATABASE_POOL="false",
        **PRODUCTION_ENV,
    )
    assert unpooled == "None"


def test_a_replica_url_adds_a_replica_alias_the_tests_mirror_to_the_primary():
    aliases, host, pool, test, sticky = show(
        "sorted(settings.DATABASES)",
        "settings.DATABASES['replica']['HOST']",
        "'pool' in settings.DATABASES['replica']['OPTIONS']",
        "settings.DATABASES['replica']['TEST']",
        "settings.DATABASE_REPLICA_STICKY_SECONDS",
        DATABASE_REPLICA_URL="postgres://skinclinic@replica.internal:5432/skinclinic",
        DATABASE_REPLICA_STICKY_SECONDS="12",
        **PRODUCTION_ENV,
    )

    assert aliases == "['default', 'replica']"
    assert host == "'replica.internal'"
    assert pool == "True"
    assert test == "{'MIRROR': 'default'}"
    assert sticky == "12"


def test_without_a_replica_url_there_is_only_the_primary():
    (aliases,) = show("sorted(settings.DATABASES)", **PRODUCTION_ENV)
    (embedded,) = show("sorted(settings.DATABASES)")

    assert aliases == embedded == "['default']"


def test_production_and_the_default_serve_compressed_cache_busted_static_files():
    (production,) = show("settings.STORAGES['staticfiles']['BACKEND']", **PRODUCTION_ENV)
    (embedded,) = show("settings.STORAGES['staticfiles']['BACKEND']")

    assert production == embedded == "'whitenoise.storage.CompressedManifestStaticFilesStorage'"


REPORTING = "import sentry_sdk; print(sentry_sdk.get_client().is_active())"
SCRUB = (
    LOAD_SETTINGS + "\nimport sentry_sdk\n"
    "event = {'request': {'data': 'allergies=latex', 'cookies': {'sessionid': 'x'},"
    " 'headers': {'Cookie': 'sessionid=x', 'User-Agent': 'ua'}}, 'user': {'email': 'a@b.c'}}\n"
    "print(sentry_sdk.get_client().options['before_send'](event, {}))\n"
)


def test_error_reporting_is_off_without_sentry_dsn():
    result = run(["-c", LOAD_SETTINGS + "; " + REPORTING])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_error_reporting_starts_with_sentry_dsn_and_sends_no_health_data():
    dsn = "https://public@o0.ingest.sentry.io/1"
    result = run(["-c", LOAD_SETTINGS + "; " + REPORTING], SENTRY_DSN=dsn)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"

    scrubbed = run(["-c", SCRUB], SENTRY_DSN=dsn)
    assert scrubbed.returncode == 0, scrubbed.stderr
    assert scrubbed.stdout.strip() == "{'request': {'headers': {'User-Agent': 'ua'}}}"
