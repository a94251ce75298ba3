"""Deployment checks (`manage.py check --deploy`): settings that start fine but fail patients.

A production SITE_URL left at the local default puts http://127.0.0.1:8000 links in every
confirmation email; the Twilio backend without its keys fails every reminder at send time.
"""

from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 (a list, not a bind)
TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs) -> list[Warning]:
    if settings.DEBUG:
        return []
    url = urlparse(settings.SITE_URL)
    host = (url.hostname or "").lower()
    local = not host or host in LOCAL_HOSTS or host.endswith(".localhost")
    if url.scheme == "https" and not local:
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in emails and messages will not reach "
            "patients.",
            hint="Set SITE_URL to the public https address, e.g. https://book.example.com.",
            id="skinclinic.W001",
        )
    ]


@register(deploy=True)
def check_sms_backend(app_configs, **kwargs) -> list[Error | Warning]:
    from notifications.sms import TwilioSMSBackend

    try:
        backend = import_string(settings.SMS_BACKEND)
    except ImportError as error:
        return [
            Error(
                f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {error}",
                hint="Use a dotted path such as notifications.sms.TwilioSMSBackend.",
                id="skinclinic.E001",
            )
        ]
    if not (isinstance(backend, type) and issubclass(backend, TwilioSMSBackend)):
        return []
    unset = [name for name in TWILIO_SETTINGS if not getattr(settings, name)]
    if not unset:
        return []
    return [
        Warning(
            f"SMS_BACKEND is Twilio but {', '.join(unset)} {'is' if len(unset) == 1 else 'are'} "
            "not set: every SMS will fail.",
            hint="Set the Twilio account SID, auth token and sending number.",
            id="skinclinic.W002",
        )
    ]
