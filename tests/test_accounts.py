"""Accounts: sign up by email link, sign in, password reset, no account enumeration, rate
limits and CSRF."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from accounts import tokens
from booking.models import Patient
from tests import factories

pytestmark = pytest.mark.usefixtures("isolated_cache")

SIGN_UP = {
    "first_name": "Maya",
    "last_name": "Okafor",
    "email": "Maya@Example.com",
    "phone": "+1 404 555 0123",
    "date_of_birth": "1991-04-12",
    "email_consent": "on",
}


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_signing_up_emails_a_link_to_choose_a_password(client, db):
    response = client.post(reverse("sign_up"), SIGN_UP)

    assert response["Location"] == reverse("sign_up_sent")
    user = User.objects.get(email="maya@example.com")
    assert not user.is_active and not user.has_usable_password()
    patient = Patient.objects.get(user=user)
    assert (patient.phone, str(patient.date_of_birth)) == ("+1 404 555 0123", "1991-04-12")
    assert patient.email_consent and not patient.sms_consent
    assert mail.outbox[0].to == ["maya@example.com"]

    link = link_in(mail.outbox[0])
    page = client.get(link)
    assert "Choose your password" in page.content.decode()
    done = client.post(
        link, {"new_password1": "a long new secret 42", "new_password2": "a long new secret 42"}
    )

    assert done["Location"] == reverse("my_appointments")
    user.refresh_from_db()
    assert user.is_active
    assert client.get(reverse("my_appointments")).status_code == 200
    assert client.get(link).status_code == 400  # used once


def test_signing_up_with_a_known_email_looks_the_same_and_tells_the_owner(client, db):
    owner = factories.PatientFactory(
        user__username="ana@example.com", user__email="ana@example.com"
    )
    new = client.post(reverse("sign_up"), {**SIGN_UP, "email": "someone.new@example.com"})

    known = client.post(reverse("sign_up"), {**SIGN_UP, "email": "ANA@example.com"})

    assert (known.status_code, known["Location"]) == (new.status_code, new["Location"])
    assert User.objects.filter(email__iexact="ana@example.com").count() == 1
    note = mail.outbox[-1]
    assert note.to == [owner.user.email]
    assert "You already have one" in note.body
    owner.user.refresh_from_db()
    assert owner.user.check_password("correct horse battery staple")


def test_signing_up_again_before_confirming_sends_a_fresh_link(client, db):
    client.post(reverse("sign_up"), SIGN_UP)
    client.post(reverse("sign_up"), {**SIGN_UP, "phone": "+1 404 555 0999"})

    assert User.objects.filter(email="maya@example.com").count() == 1
    assert Patient.objects.get(email="maya@example.com").phone == "+1 404 555 0999"
    assert "choose a password" in mail.outbox[-1].body


def test_password_reset_answers_the_same_for_known_and_unknown_emails(client, patient):
    known = client.post(reverse("password_reset"), {"email": patient.user.email})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0])
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()


def test_a_wrong_password_reads_like_an_unknown_email(client, patient):
    wrong = client.post(reverse("login"), {"username": patient.user.username, "password": "not it"})
    unknown = client.post(reverse("login"), {"username": "nobody@example.com", "password": "x"})

    def error(response):
        return re.search(
            r'<div class="alert alert-block alert-danger">.*?</div>',
            response.content.decode(),
            re.S,
        ).group(0)

    assert wrong.status_code == unknown.status_code == 200
    assert error(wrong) == error(unknown)
    assert "do not match an account" in error(wrong)


def test_signing_in_with_an_email_in_any_case(client, db):
    user = factories.UserFactory(username="lee@example.com", email="lee@example.com")
    factories.PatientFactory(user=user)

    response = client.post(
        reverse("login"),
        {"username": " Lee@Example.COM ", "password": "correct horse battery staple"},
    )

    assert response["Location"] == reverse("my_appointments")


def test_failed_sign_ins_are_rate_limited_per_ip(client, patient, settings):
    settings.RATE_LIMITS = {"sign-in": (3, 900)}
    for _ in range(3):
        client.post(reverse("login"), {"username": patient.user.username, "password": "no"})

    blocked = client.post(
        reverse("login"),
        {"username": patient.user.username, "password": "correct horse battery staple"},
    )

    assert blocked.status_code == 429
    assert "Please wait a moment" in blocked.content.decode()
    elsewhere = Client(REMOTE_ADDR="10.0.0.7")
    allowed = elsewhere.post(
        reverse("login"),
        {"username": patient.user.username, "password": "correct horse battery staple"},
    )
    assert allowed.status_code == 302


def test_sign_ups_are_rate_limited_per_ip(client, db, settings):
    settings.RATE_LIMITS = {"sign-up": (2, 3600)}
    client.post(reverse("sign_up"), SIGN_UP)
    client.post(reverse("sign_up"), SIGN_UP)

    response = client.post(reverse("sign_up"), SIGN_UP)

    assert response.status_code == 429
    assert len(mail.outbox) == 2


def test_sign_in_needs_the_csrf_token(patient):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        reverse("login"),
        {"username": patient.user.username, "password": "correct horse battery staple"},
    )

    assert response.status_code == 403


def test_a_broken_link_is_explained(client, db):
    response = client.get(reverse("account_activate", args=["zzz", "nope"]))

    assert response.status_code == 400
    assert "expired or was already used" in response.content.decode()


def test_signing_out(client, patient):
    client.force_login(patient.user)

    client.post(reverse("logout"))

    assert client.get(reverse("my_appointments")).status_code == 302


def test_signing_up_takes_over_the_record_the_front_desk_made_by_phone(
    client, clinic, now, front_desk
):
    from booking import services

    phoned = Patient.objects.create(
        first_name="Maya", last_name="Okafor", email="maya@example.com", phone="+1 404 555 0100"
    )
    visit = services.book_appointment(
        patient=phoned,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=9, hour=10),
        now=now,
        staff=True,
        booked_by=front_desk,
    )

    client.post(reverse("sign_up"), SIGN_UP)
    link = link_in(mail.outbox[0])
    client.post(
        link, {"new_password1": "a long new secret 42", "new_password2": "a long new secret 42"}
    )

    user = User.objects.get(email="maya@example.com")
    assert Patient.objects.count() == 1
    phoned.refresh_from_db()
    assert phoned.user == user and phoned.phone == "+1 404 555 0123"
    portal = client.get(reverse("my_appointments")).content.decode()
    assert visit.treatment.name in portal


# The account's API tokens ---------------------------------------------------------------------


def make_tokens(user, *names: str) -> list[str]:
    return [tokens.issue_token(user, name=name)[0].token_key for name in names]


def test_the_tokens_page_lists_each_device_in_constant_queries(
    client, patient, django_assert_num_queries
):
    client.force_login(patient.user)
    make_tokens(patient.user, "Front desk iPad")
    # session, user, the tokens with their devices, and the menu's patient and provider
    with django_assert_num_queries(5):
        one = client.get(reverse("account_tokens"))
    make_tokens(patient.user, "SkinclinicApp/2.1", "curl/8.5")
    with django_assert_num_queries(5):
        three = client.get(reverse("account_tokens"))

    assert "Front desk iPad" in one.text
    assert all(name in three.text for name in ("Front desk iPad", "SkinclinicApp/2.1", "curl/8.5"))


def test_the_tokens_page_signs_out_one_device_or_all(client, patient):
    ipad, phone, laptop = make_tokens(patient.user, "iPad", "phone", "laptop")
    someone_else = make_tokens(factories.PatientFactory().user, "theirs")[0]
    client.force_login(patient.user)

    client.post(reverse("account_tokens"), {"revoke": ipad})
    refused = client.post(reverse("account_tokens"), {"revoke": someone_else}, follow=True)

    assert sorted(tokens.live_tokens(patient.user).values_list("token_key", flat=True)) == sorted(
        [phone, laptop]
    )
    assert "already revoked" in refused.text
    assert AuthToken.objects.filter(token_key=someone_else).exists()
    client.post(reverse("account_tokens"), {"revoke": "all"})
    assert not tokens.live_tokens(patient.user).exists()


def test_the_tokens_page_needs_a_sign_in(client, db):
    response = client.get(reverse("account_tokens"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
