"""skinclinic/checks.py: `manage.py check --deploy` warns about a local SITE_URL and a Twilio
backend without its keys."""

import pytest
from django.core.checks import run_checks

TWILIO = "notifications.sms.TwilioSMSBackend"
KEYS = {
    "TWILIO_ACCOUNT_SID": "AC0123456789abcdef",
    "TWILIO_AUTH_TOKEN": "secret-token",
    "TWILIO_FROM_NUMBER": "+15550100",
}


def deploy_check_ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize(
    "site_url",
    [
        "http://127.0.0.1:8000",
        "http://book.skinclinic.example",
        "https://localhost",
        "https://127.0.0.1:8443",
        "https://clinic.localhost",
        "book.skinclinic.example",
        "",
    ],
)
def test_a_local_or_plain_http_site_url_warns_in_production(settings, site_url):
    settings.DEBUG = False
    settings.SITE_URL = site_url

    assert "skinclinic.W001" in deploy_check_ids()


def test_a_public_https_site_url_passes(settings):
    settings.DEBUG = False
    settings.SITE_URL = "https://book.skinclinic.example"

    assert "skinclinic.W001" not in deploy_check_ids()


def test_the_local_site_url_is_fine_while_debugging(settings):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8000"

    assert "skinclinic.W001" not in deploy_check_ids()


@pytest.mark.parametrize("unset", list(KEYS))
def test_twilio_without_one_of_its_keys_warns_and_names_it(settings, unset):
    settings.SMS_BACKEND = TWILIO
    for name, value in KEYS.items():
        setattr(settings, name, "" if name == unset else value)

    warnings = [m for m in run_checks(include_deployment_checks=True) if m.id == "skinclinic.W002"]

    assert len(warnings) == 1
    assert unset in warnings[0].msg
    assert [name for name in KEYS if name in warnings[0].msg] == [unset]


def test_twilio_with_all_keys_passes(settings):
    settings.SMS_BACKEND = TWILIO
    for name, value in KEYS.items():
        setattr(settings, name, value)

    assert "skinclinic.W002" not in deploy_check_ids()


def test_other_sms_backends_need_no_twilio_keys(settings):
    settings.SMS_BACKEND = "notifications.sms.ConsoleSMSBackend"
    for name in KEYS:
        setattr(settings, name, "")

    assert "skinclinic.W002" not in deploy_check_ids()


def test_an_sms_backend_that_does_not_import_is_an_error(settings):
    settings.SMS_BACKEND = "notifications.sms.NoSuchBackend"

    assert "skinclinic.E001" in deploy_check_ids()


def test_the_checks_only_run_with_deploy(settings):
    settings.DEBUG = False
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.SMS_BACKEND = TWILIO
    settings.TWILIO_AUTH_TOKEN = ""

    ids = {message.id for message in run_checks()}

    assert not ids & {"skinclinic.W001", "skinclinic.W002"}
