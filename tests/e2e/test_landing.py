"""An aesthetician signs in from the public "Sign in" link and from the staff door (/staff/),
password then the code from their authenticator app, and lands on My day (not a 403); the
home page loads with a clean console (the favicon and the manifest exist, the CSP holds)."""

import re

import pytest

from tests import factories
from tests.e2e.conftest import axe_violations
from tests.helpers import authenticator, totp_code

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors


@pytest.mark.parametrize("door", ["sign-in link", "/staff/"])
def test_an_aesthetician_signs_in_and_lands_on_my_day(live_server, page, clinic, door):
    user = clinic["provider"].user
    phone = authenticator(user)
    errors = console_errors(page)

    if door == "/staff/":
        page.goto(live_server.url + "/staff/")
    else:
        page.goto(live_server.url + "/")
        page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    page.get_by_label("Code").fill(totp_code(phone))
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(re.compile(r"/staff/my-day/$"))
    page.get_by_role("heading", name="My day").wait_for()
    assert "Forbidden" not in page.content()
    assert errors == []


def test_the_home_page_has_a_clean_console_and_an_installable_manifest(live_server, page, db):
    factories.LocationFactory()
    errors = console_errors(page)
    icons: list[str] = []
    page.on("response", lambda r: icons.append(r.url) if "/icons/" in r.url else None)

    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    favicon = page.request.get(live_server.url + "/favicon.ico")
    manifest_href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(live_server.url + manifest_href)

    assert favicon.ok and favicon.headers["content-type"].startswith("image/")
    assert manifest.ok and {i["sizes"] for i in manifest.json()["icons"]} == {
        "192x192",
        "512x512",
    }
    assert errors == []
    assert axe_violations(page) == []
