"""skinclinic settings: one module, read from environment variables.

With nothing set you get the embedded default: SQLite next to manage.py, Celery tasks run
in-process, mail and SMS printed to the console, DEBUG on. Setting DATABASE_URL switches to
production defaults (DEBUG off, SECRET_KEY and ALLOWED_HOSTS required). A malformed value stops
start-up with ImproperlyConfigured naming the variable and the bad value: every number, switch
and choice is read through one of the ``env_*`` helpers below. With SENTRY_DSN set, errors are
reported to Sentry (no request bodies, no personal data).
"""

import logging
import os
import re
import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None


def env_choice(name: str, default: str, choices: list[str]) -> str:
    """The value of ``name`` if it is one of ``choices`` (ignoring case), else an error."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    by_upper = {choice.upper(): choice for choice in choices}
    value = by_upper.get(raw.strip().upper())
    if value is None:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; not {raw!r}.")
    return value


RATE = re.compile(r"^\s*\d+\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")


def env_rate(name: str, default: str) -> str:
    """A throttle rate for DRF, "number/period" with a period of second, minute, hour or day."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not RATE.match(raw):
        raise ImproperlyConfigured(
            f"{name} must look like 30/hour (second, minute, hour or day), not {raw!r}."
        )
    return raw.replace(" ", "")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if value not in zoneinfo.available_timezones():
        raise ImproperlyConfigured(
            f"{name} must be a time zone name like America/New_York, not {raw!r}."
        )
    return value


def env_region(name: str, default: str) -> str:
    """A two-letter region code libphonenumber knows (US, ES, FR...), upper-cased."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"{name} must be a two-letter country code like US, not {raw!r}."
        )
    return value


def env_database(name: str) -> dict | None:
    """The database URL in ``name`` as Django settings. PostgreSQL (psycopg 3) uses Django's
    connection pool unless DATABASE_POOL is off; then each process keeps one connection for 60 s.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for one problem
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if not config.get("NAME") and config.get("ENGINE") != "django.db.backends.sqlite3":
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://host/skinclinic.")
    if config["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
        # The pool replaces persistent connections (Django refuses both). One connection
        # opened per process at first use, more on demand (threads), up to the maximum.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": max(1, env_int("DATABASE_POOL_MAX_SIZE", 4)),
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
        }
    return config


def env_redis(name: str) -> str | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0, not {raw!r}.")
    return raw


DATABASE_CONFIG = env_database("DATABASE_URL")
PRODUCTION = DATABASE_CONFIG is not None
DEBUG = env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-embedded-default-only-for-local-use"  # noqa: S105
# Rotating the key: put the old one here (comma-separated) so sessions and signed links made
# with it stay valid until they expire; then drop it.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# How many reverse proxies (load balancers) append to X-Forwarded-For in front of the app;
# rate limits then count the address the outermost one saw instead of the proxy's.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    # Before the admin: its admin classes show a field per language (treatments/translation.py).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "phonenumber_field",
    "anymail",
    "treatments",
    "booking",
    "notifications",
    "charts",
    "payments",
    "consent",
    "photos",
    "calendars",
    "desk",
    "accounts",
    "portal",
    "api",
    "skinclinic",  # its system checks (skinclinic/checks.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in patient's pages in their own language (Patient.language).
    "skinclinic.middleware.PatientLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "skinclinic.middleware.AdminTimeZoneMiddleware",
    "skinclinic.middleware.ReadYourWritesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A record that is not the user's: the friendly 404, even with DEBUG on.
    "skinclinic.errors.PrivateNotFoundMiddleware",
]

ROOT_URLCONF = "skinclinic.urls"
WSGI_APPLICATION = "skinclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{{ number|phone }}` on every page and message (skinclinic/templatetags/phones.py).
            # Dates in the active language's order (skinclinic/templatetags/dates.py), and
            # `{{ amount|money:currency }}` likewise (payments/templatetags/money.py).
            "builtins": [
                "skinclinic.templatetags.phones",
                "skinclinic.templatetags.dates",
                "payments.templatetags.money",
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if DATABASE_CONFIG:
    DATABASES = {"default": DATABASE_CONFIG}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE takes SQLite's write lock when a transaction begins, so a booking's
            # "is it free?" check and its insert can never interleave with another booking.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
# A read replica (optional): a PostgreSQL streaming standby of DATABASE_URL. Only reads that
# opt in (booking.routing.reads_from_replica: free times, the desk calendar, the report) go
# there; writes, transactions and a browser's requests for a while after it wrote stay on the
# primary (docs/operations.md). In tests the alias mirrors the primary (nothing is created).
DATABASE_REPLICA_CONFIG = env_database("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_CONFIG:
    if not DATABASE_CONFIG:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary) too.")
    DATABASES["replica"] = {**DATABASE_REPLICA_CONFIG, "TEST": {"MIRROR": "default"}}
# Seconds a browser reads from the primary after a POST, so it sees what it just wrote.
DATABASE_REPLICA_STICKY_SECONDS = env_int("DATABASE_REPLICA_STICKY_SECONDS", 30)
# Inert without the replica alias.
DATABASE_ROUTERS = ["booking.routing.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Older hashes still verify, and are upgraded to Argon2 at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its hook revokes the account's API tokens whenever the password changes.
    {"NAME": "accounts.tokens.RevokeApiTokensOnPasswordChange"},
]
LOGIN_URL = "login"
# Two-factor sign-in (django-otp): front desk, aestheticians, is_staff and superusers must add
# an authenticator app code after their password; patients may opt in. Off only for a clinic
# that accepts password-only staff sign-in (staff who enrolled anyway are still asked).
OTP_REQUIRED_FOR_STAFF = env_bool("OTP_REQUIRED_FOR_STAFF", True)
OTP_TOTP_ISSUER = "skinclinic"  # the name authenticator apps show next to the code
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# English and Spanish (issue 15): a patient's pages follow their stored language once signed in,
# else the switcher's cookie, else the browser's Accept-Language; every message the dispatcher
# renders for a patient is in that patient's language (Patient.language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Treatment content falls back to English where a Spanish text is missing.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = "UTC"  # stored instants are UTC; pages show each location's own zone
# The Django admin shows and reads times in this zone (the clinic's wall clock), not UTC.
CLINIC_TIME_ZONE = env_time_zone("CLINIC_TIME_ZONE", "America/New_York")
# Phone numbers are stored in E.164 (+14045550100). A number typed without its country code is
# read in the region of the patient's location (Location.country), else in this one.
PHONENUMBER_DEFAULT_REGION = env_region("PHONENUMBER_DEFAULT_REGION", "US")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"
USE_I18N = True
# Amounts with no location to say their currency (treatment prices on the catalogue pages).
DEFAULT_CURRENCY = "USD"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise knows no type for the web app manifest (static/manifest.webmanifest).
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
STORAGES: dict[str, dict] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies with content-hashed names (css/site.3f2a9c.css), served by whitenoise
    # with a year-long cache: a deploy changes the name, so no browser keeps an old file.
    # `{% static %}` needs `manage.py collectstatic` first when DEBUG is off.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Clinical photos (photos/): never under a public URL; read only through photos.views.serve.
# The file system under MEDIA_ROOT by default; a private, server-side encrypted S3 bucket when
# AWS_STORAGE_BUCKET_NAME is set (credentials from the usual AWS_* variables or the instance
# role). MEDIA_URL is not routed anywhere, so nothing under MEDIA_ROOT is served directly.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # signed consent PDFs (consent/) live here too
PHOTOS_BUCKET = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
if PHOTOS_BUCKET:
    STORAGES["photos"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PHOTOS_BUCKET,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",
            "object_parameters": {"ServerSideEncryption": "AES256"},
            "file_overwrite": False,
            "querystring_auth": True,  # any URL the storage makes is signed ...
            "querystring_expire": 300,  # ... and lives five minutes
            "signature_version": "s3v4",
        },
    }
else:
    STORAGES["photos"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Hashed, expiring, per-device tokens, sent as `Authorization: Token <token>`.
        "knox.auth.TokenAuthentication",
        # Sessions count only once their second step (if any) is done.
        "api.sessions.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Refuses lone surrogates and deep nesting with a 400 (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per signed-in account, else per IP; counted in the cache (api/throttles.py).
    "DEFAULT_THROTTLE_RATES": {
        "bookings": env_rate("API_THROTTLE_BOOKINGS", "30/hour"),
        "plans": env_rate("API_THROTTLE_PLANS", "60/hour"),
        "token": env_rate("API_THROTTLE_TOKEN", "30/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.views.exception_handler",
}
# API tokens (django-rest-knox): only a digest is stored; each expires after the TTL and is
# revoked by signing out of it, by a password change or reset, or from the account page.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # knox's own (its device name: accounts.TokenDevice)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_float("API_TOKEN_TTL_HOURS", 10.0)),
    "TOKEN_LIMIT_PER_USER": env_int("API_TOKENS_PER_USER", 20),
    "AUTH_HEADER_PREFIX": "Token",
}

# Failed sign-ins allowed per window, on every door (the sign-in page, the admin, the API):
# per account lower, per IP higher (a clinic's shared Wi-Fi). accounts/ratelimit.py has the
# other scopes; RATE_LIMITS maps a scope to (attempts, seconds).
SIGN_IN_WINDOW = env_int("SIGN_IN_WINDOW_MINUTES", 15) * 60
RATE_LIMITS = {
    "sign-in": (env_int("SIGN_IN_LIMIT_PER_IP", 50), SIGN_IN_WINDOW),
    "sign-in-account": (env_int("SIGN_IN_LIMIT_PER_ACCOUNT", 10), SIGN_IN_WINDOW),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "skinclinic API",
    "DESCRIPTION": "Treatments, free times and bookings for a medical spa.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A visit's and a plan's choices keep one name wherever they appear (the booked
    # responses repeat the visit's and the plan's fields).
    "ENUM_NAME_OVERRIDES": {
        "AppointmentKindEnum": "booking.models.Appointment.Kind",
        "AppointmentStatusEnum": "booking.models.AppointmentStatus",
        "PlanStatusEnum": "booking.models.TreatmentPlan.Status",
    },
}

# Celery: Redis in production; without REDIS_URL, tasks run eagerly in the web process.
REDIS_URL = env_redis("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
# Exactly one beat process sweeps the outbox; a sweep that waited too long is dropped, the
# next one does its work.
REMINDERS_DISPATCH_EVERY = env_int("REMINDERS_DISPATCH_EVERY", 60)
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-messages": {
        "task": "notifications.tasks.dispatch_due_messages",
        "schedule": float(REMINDERS_DISPATCH_EVERY),
        "options": {"expires": max(5, REMINDERS_DISPATCH_EVERY - 5)},
    },
    # Expired holds are already ignored; this only keeps the tables small.
    "sweep-expired-holds": {
        "task": "booking.tasks.sweep_expired_holds",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Unpaid online deposits past PAYMENT_HOLD_MINUTES free their time.
    "release-unpaid-bookings": {
        "task": "payments.tasks.release_unpaid_bookings",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}

# Card payments (payments/backends.py): Stripe when STRIPE_SECRET_KEY is set, else the offline
# backend (the desk records what it takes; patients see "online payments are off").
# STRIPE_API_BASE points the SDK elsewhere (tests: a localstripe on 127.0.0.1).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
# Stripe.js for the patient's browser (tests: localstripe's copy at <base>/js.stripe.com/v3/).
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET is needed with STRIPE_SECRET_KEY: payment states come from "
        "signed webhooks."
    )
# Minutes an unpaid online deposit holds its time before the booking is let go.
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 10)

# Mail and SMS: printed to the console unless configured.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "skinclinic <bookings@skinclinic.local>")
# Or mail through a provider's API with django-anymail, which also posts bounces and spam
# complaints to /anymail/<provider>/tracking/ (notifications.bounces turns email reminders
# off). Webhooks are refused unless their secret is set: an unset one is random.
MAIL_PROVIDER = env_choice("MAIL_PROVIDER", "", ["", "mailgun", "postmark"])
_MAIL_PROVIDER_NEEDS = {
    "mailgun": ("MAILGUN_API_KEY", "MAILGUN_SENDER_DOMAIN", "MAILGUN_WEBHOOK_SIGNING_KEY"),
    "postmark": ("POSTMARK_SERVER_TOKEN", "ANYMAIL_WEBHOOK_SECRET"),
}
ANYMAIL = {
    "MAILGUN_API_KEY": os.environ.get("MAILGUN_API_KEY", ""),
    "MAILGUN_SENDER_DOMAIN": os.environ.get("MAILGUN_SENDER_DOMAIN", ""),
    "MAILGUN_API_URL": os.environ.get("MAILGUN_API_URL", "https://api.mailgun.net/v3"),
    "MAILGUN_WEBHOOK_SIGNING_KEY": (
        os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", "") or secrets.token_hex(32)
    ),
    "POSTMARK_SERVER_TOKEN": os.environ.get("POSTMARK_SERVER_TOKEN", ""),
    # HTTP basic auth "user:password" in the webhook URL (Postmark's only check; Mailgun's
    # signature needs none).
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "")
    or ("" if MAIL_PROVIDER == "mailgun" else f"{secrets.token_hex(8)}:{secrets.token_hex(32)}"),
}
if not ANYMAIL["WEBHOOK_SECRET"]:
    del ANYMAIL["WEBHOOK_SECRET"]
if MAIL_PROVIDER:
    EMAIL_BACKEND = f"anymail.backends.{MAIL_PROVIDER}.EmailBackend"
    _missing = [name for name in _MAIL_PROVIDER_NEEDS[MAIL_PROVIDER] if not os.environ.get(name)]
    if _missing:
        raise ImproperlyConfigured(f"MAIL_PROVIDER={MAIL_PROVIDER} needs {', '.join(_missing)}.")
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.sms.ConsoleSMSBackend")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", "")  # notifications.sms.FileSMSBackend only
SMS_SEND_DELAY = env_float("SMS_SEND_DELAY", 0.0)
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
# Where Twilio posts delivery reports (notifications.views.sms_status), e.g.
# https://clinic.example/sms/status/; unset: messages are sent without a status callback.
TWILIO_STATUS_CALLBACK_URL = os.environ.get("TWILIO_STATUS_CALLBACK_URL", "")
# Links in emails (the visit confirmation link) start with this.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# The outbox dispatcher: rows per claim, how long a claim holds, seconds per sweep.
REMINDERS_BATCH_SIZE = env_int("REMINDERS_BATCH_SIZE", 200)
# Messages sent per transaction (one lock query, one update, one commit for them all). A crash
# after the provider accepted some of a chunk and before its commit re-sends those.
REMINDERS_CHUNK_SIZE = env_int("REMINDERS_CHUNK_SIZE", 20)
# ... and a chunk commits after this many seconds whatever its size, so a crash re-sends at
# most this long's worth of messages (with a slow provider, one).
REMINDERS_CHUNK_SECONDS = env_float("REMINDERS_CHUNK_SECONDS", 0.02)
# SMS per second from one sender number, shared by every dispatcher (through the cache); 0 is
# no limit. A Twilio long code sends about 1 a second, a toll-free number 3, a short code 100.
SMS_MAX_PER_SECOND = env_int("SMS_MAX_PER_SECOND", 0)
REMINDERS_LEASE_SECONDS = env_int("REMINDERS_LEASE_SECONDS", 300)
REMINDERS_BUDGET_SECONDS = env_int("REMINDERS_BUDGET_SECONDS", 50)

# Security headers and cookies; strict in production, relaxed for local http.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): only this site's own scripts, styles and frames; no
# inline script or style, no framing by other sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe /healthz over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

LOG_LEVEL = env_choice(
    "LOG_LEVEL", "INFO", [name for name in logging.getLevelNamesMapping() if name != "NOTSET"]
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # WeasyPrint narrates every step of every consent PDF at INFO ("Step 2 - Fetching and
    # parsing CSS"); its warnings and errors still show.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# Cache: rate-limit counters live here, so with Redis they hold across web processes.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "skinclinic",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Error reporting (optional): only with SENTRY_DSN. Patients' health answers travel in request
# bodies, so bodies, cookies and user details are never sent.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()


def _without_request_body(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if request:
        for key in ("data", "cookies", "query_string"):
            request.pop(key, None)
        headers = request.get("headers") or {}
        for header in list(headers):
            if header.lower() in {"cookie", "authorization", "x-csrftoken"}:
                del headers[header]
    event.pop("user", None)
    return event


if SENTRY_DSN:
    import sentry_sdk
    import sentry_sdk.utils
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    try:
        sentry_sdk.utils.Dsn(SENTRY_DSN)
    except sentry_sdk.utils.BadDsn as exc:
        raise ImproperlyConfigured(f"SENTRY_DSN is not a valid Sentry DSN: {exc}") from None
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        before_send=_without_request_body,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
