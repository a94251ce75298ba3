"""Deployment checks (`manage.py check --deploy`): settings that start fine but would send
patients broken links or silently drop their texts."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

TWILIO_BACKEND = "notifications.sms.TwilioSMSBackend"
TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 (a name, not a bind)


@checks.register(checks.Tags.security, deploy=True)
def check_site_url(app_configs=None, **kwargs):
    """Links in emails and texts are built from SITE_URL: in production it must be the
    clinic's public https:// address."""
    if settings.DEBUG:
        return []
    url = urlsplit(settings.SITE_URL)
    if url.scheme != "https" or (url.hostname or "") in LOCAL_HOSTS:
        return [
            checks.Warning(
                f"SITE_URL is {settings.SITE_URL!r}: links in patients' emails and texts would "
                "not reach the clinic.",
                hint="Set SITE_URL to the public https:// address, e.g. https://clinic.example.com.",
                id="skinclinic.W001",
            )
        ]
    return []


@checks.register(deploy=True)
def check_sms_backend(app_configs=None, **kwargs):
    """The Twilio backend without its keys would fail every text at send time."""
    if settings.SMS_BACKEND != TWILIO_BACKEND:
        return []
    missing = [name for name in TWILIO_SETTINGS if not getattr(settings, name, "")]
    if not missing:
        return []
    verb = "is" if len(missing) == 1 else "are"
    return [
        checks.Warning(
            f"SMS_BACKEND is Twilio but {', '.join(missing)} {verb} not set: every text "
            "would fail.",
            hint="Set the Twilio credentials, or SMS_BACKEND to another backend.",
            id="skinclinic.W002",
        )
    ]
