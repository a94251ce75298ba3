"""Security settings as a browser and an attacker see them: headers, the Content-Security-
Policy, production cookies and HSTS, Argon2, a self-hosted Swagger UI, and account pages that
answer the same for known and unknown emails. (manage.py check --deploy: test_settings.py;
who reaches which record: test_access_matrix.py; rate limits: test_accounts.py.)
"""

import re
from pathlib import Path

import pytest
from django.templatetags.static import static
from django.urls import reverse

from tests import factories
from tests.test_settings import PRODUCTION_ENV, show

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Inline script or style that the CSP blocks in a browser. Emails are not pages: mail
# clients need inline style. Each entry here is a known bug waiting for its page's owner.
INLINE = re.compile(r"<script>|<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"")
KNOWN_INLINE: set[str] = set()


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_frame_protection(client):
    response = client.get("/")

    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_page_template_has_inline_script_or_style():
    offenders = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if path.relative_to(TEMPLATES).parts[0] != "emails" and INLINE.search(path.read_text())
    }

    assert offenders <= KNOWN_INLINE, f"the CSP blocks inline code in {offenders - KNOWN_INLINE}"


@pytest.mark.django_db
def test_the_api_docs_are_self_hosted_with_no_inline_script(client):
    response = client.get(reverse("api_docs"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "cdn." not in page and "//unpkg" not in page
    assert static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js") in page
    assert not INLINE.search(page)
    script = client.get(reverse("api_docs") + "?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_production_sends_hsts_and_secure_cookies_and_redirects_to_https():
    values = show(
        "settings.SECURE_HSTS_SECONDS",
        "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "settings.SESSION_COOKIE_SECURE",
        "settings.CSRF_COOKIE_SECURE",
        "settings.SESSION_COOKIE_HTTPONLY",
        "settings.SECURE_SSL_REDIRECT",
        "settings.SECURE_PROXY_SSL_HEADER",
        **PRODUCTION_ENV,
    )

    assert int(values[0]) >= 31536000
    assert values[1:6] == ["True"] * 5
    assert values[6] == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_passwords_are_hashed_with_argon2_first():
    [hashers] = show("settings.PASSWORD_HASHERS", **PRODUCTION_ENV)

    assert hashers.startswith("['django.contrib.auth.hashers.Argon2PasswordHasher'")


def test_old_secret_keys_stay_valid_while_rotating():
    [fallbacks] = show(
        "settings.SECRET_KEY_FALLBACKS", **PRODUCTION_ENV, SECRET_KEY_FALLBACKS="a,b"
    )

    assert fallbacks == "['a', 'b']"


def _page(response, *echoed: str) -> str:
    """The page a person sees, without the per-request CSRF token and what they typed."""
    text = re.sub(r'value="[A-Za-z0-9]{64}"', "", response.content.decode())
    text = re.sub(r'"X-CSRFToken": "[A-Za-z0-9]{64}"', "", text)
    for value in echoed:
        text = text.replace(value, "")
    return text


@pytest.mark.django_db
def test_sign_in_sign_up_and_reset_look_the_same_for_known_and_unknown_emails(
    client, isolated_cache
):
    factories.PatientFactory(user__username="ana@example.com", user__email="ana@example.com")
    known, unknown = "ana@example.com", "nobody@example.com"
    sign_up = {
        "first_name": "Ana",
        "last_name": "Lima",
        "phone": "+1 404 555 0101",
        "date_of_birth": "1990-05-01",
        "email_consent": "on",
    }

    for name, data in (
        ("login", {"password": "not the password"}),
        ("sign_up", sign_up),
        ("password_reset", {}),
    ):
        field = "username" if name == "login" else "email"
        answers = [
            client.post(reverse(name), {**data, field: email}, follow=True)
            for email in (known, unknown)
        ]
        assert answers[0].status_code == answers[1].status_code, name
        assert bool(answers[0].redirect_chain) == (name != "login"), name  # accepted, or not
        assert answers[0].redirect_chain == answers[1].redirect_chain, name
        assert _page(answers[0], known) == _page(answers[1], unknown), name
