"""`manage.py check --deploy` warns about settings that start fine but would break what
patients receive: links to a local address, a Twilio backend without its keys."""

from django.core.management import call_command
from django.core.management.base import SystemCheckError

from skinclinic import checks


def ids(messages):
    return [message.id for message in messages]


def test_a_local_or_plain_http_site_url_is_flagged_in_production(settings):
    settings.DEBUG = False
    for url in ("http://127.0.0.1:8000", "http://clinic.example.com", "https://localhost"):
        settings.SITE_URL = url
        assert ids(checks.check_site_url()) == ["skinclinic.W001"], url
    settings.SITE_URL = "https://clinic.example.com"
    assert checks.check_site_url() == []


def test_twilio_without_its_keys_is_flagged(settings):
    settings.SMS_BACKEND = checks.TWILIO_BACKEND
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", ""
    settings.TWILIO_FROM_NUMBER = "+14045550100"

    (warning,) = checks.check_sms_backend()

    assert warning.id == "skinclinic.W002" and "TWILIO_AUTH_TOKEN is not set" in warning.msg
    settings.TWILIO_AUTH_TOKEN = "secret"
    assert checks.check_sms_backend() == []


def test_check_deploy_fails_on_them(settings):
    settings.DEBUG = False
    settings.SITE_URL = "http://127.0.0.1:8000"
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
    except SystemCheckError as error:
        assert "skinclinic.W001" in str(error)
    else:
        raise AssertionError("check --deploy passed with a local SITE_URL")
