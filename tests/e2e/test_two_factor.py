"""Two-step sign-in in a real browser: new front-desk staff set up an authenticator app from
the page (the key typed in, as a phone app would take it), keep the recovery codes, and reach
the calendar; the pages pass axe and the CSP."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from tests import factories
from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def app_code(secret: str) -> str:
    """What an authenticator app shows for the key on the set-up page, now."""
    return f"{TOTP(b32decode(secret.replace(' ', ''))).token():06d}"


def test_new_front_desk_staff_set_up_two_step_sign_in_and_reach_the_calendar(live_server, page):
    factories.LocationFactory()
    factories.UserFactory(username="newdesk", groups=["Front desk"])
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security" in m.text else 0)

    page.goto(live_server.url + "/staff/calendar/")
    page.get_by_label("Email").fill("newdesk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("heading", name="Set up two-step sign-in").wait_for()
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    assert axe_violations(page) == []
    secret = page.locator("#secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7 ]+", secret)
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    page.get_by_role("heading", name="Recovery codes").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    assert axe_violations(page) == []
    page.get_by_role("link", name="I have saved them, continue").click()

    page.wait_for_url(re.compile(r"/staff/calendar/"))
    assert page.get_by_role("navigation", name="Front desk").is_visible()
    assert csp_errors == []
