"""Accounts: sign up by email link, sign in, password reset, no account enumeration, rate
limits and CSRF."""

import importlib
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken

from accounts import tokens
from accounts.views import activation_tokens
from booking.models import Patient, PendingSignUp
from tests import factories
from tests.helpers import sign_in

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
    assert "Confirm your email" in page.content.decode()
    assert "Password (optional)" in page.content.decode()
    done = client.post(
        link, {"new_password1": "a long new secret 42", "new_password2": "a long new secret 42"}
    )

    assert done["Location"] == reverse("my_appointments")
    user.refresh_from_db()
    assert user.is_active
    assert client.get(reverse("my_appointments")).status_code == 200
    assert client.get(link).status_code == 400  # used once
    assert user.check_password("a long new secret 42")


def test_the_emailed_link_confirms_the_address_without_a_password(client, db):
    client.post(reverse("sign_up"), SIGN_UP)
    link = link_in(mail.outbox[0])

    assert client.get(link).status_code == 200  # opening it (a mail scanner) changes nothing
    assert not User.objects.get(email="maya@example.com").is_active
    done = client.post(link, {"new_password1": "", "new_password2": ""})

    assert done["Location"] == reverse("my_appointments")
    user = User.objects.get(email="maya@example.com")
    assert user.is_active and not user.has_usable_password()


def test_a_password_typed_once_is_asked_again_not_ignored(client, db):
    client.post(reverse("sign_up"), SIGN_UP)
    link = link_in(mail.outbox[0])

    page = client.post(link, {"new_password1": "a long new secret 42", "new_password2": ""})

    assert "type the password a second time" in page.content.decode()
    assert not User.objects.get(email="maya@example.com").is_active


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


def test_signing_up_again_before_confirming_only_sends_a_fresh_link(client, db):
    client.post(reverse("sign_up"), SIGN_UP)
    again = {**SIGN_UP, "first_name": "Mallory", "phone": "+1 404 555 0999"}
    client.post(reverse("sign_up"), {**again, "date_of_birth": "1970-01-01"})

    assert User.objects.filter(email="maya@example.com").count() == 1
    patient = Patient.objects.get(email="maya@example.com")
    assert (patient.first_name, patient.phone, str(patient.date_of_birth)) == (
        "Maya",
        "+1 404 555 0123",
        "1991-04-12",
    )
    assert User.objects.get(email="maya@example.com").first_name == "Maya"
    assert [m.subject for m in mail.outbox] == ["Finish creating your skinclinic account"] * 2
    assert "Hello Maya," in mail.outbox[-1].body


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
    sign_in(client, patient.user)

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


# A pending sign-up is a state of its own; a deactivated account never comes back through it.

PASSWORD = {"new_password1": "a long new secret 42", "new_password2": "a long new secret 42"}


def deactivated(**fields) -> User:
    user = factories.UserFactory(is_active=False, **fields)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return user


@pytest.fixture(params=["front desk", "superuser", "patient"])
def deactivated_account(request, db) -> User:
    if request.param == "front desk":
        return deactivated(username="frontdesk", is_staff=True, groups=["Front desk"])
    if request.param == "superuser":
        return deactivated(username="admin", is_staff=True, is_superuser=True)
    user = deactivated(username="pat@example.com", email="pat@example.com")
    return factories.PatientFactory(user=user).user


def test_signing_up_with_a_deactivated_accounts_email_answers_like_any_known_email(
    client, deactivated_account
):
    new = client.post(reverse("sign_up"), {**SIGN_UP, "email": "someone.new@example.com"})

    known = client.post(reverse("sign_up"), {**SIGN_UP, "email": deactivated_account.email})

    assert (known.status_code, known["Location"]) == (new.status_code, new["Location"])
    note = mail.outbox[-1]
    assert note.to == [deactivated_account.email]
    assert note.subject == "Your skinclinic account"
    assert "account/activate" not in note.body and "/accounts/activate/" not in note.body
    deactivated_account.refresh_from_db()
    assert not deactivated_account.is_active
    assert deactivated_account.check_password("correct horse battery staple")
    assert User.objects.filter(email__iexact=deactivated_account.email).count() == 1


def test_an_activation_link_cannot_reactivate_a_deactivated_account(client, deactivated_account):
    # Even a link that was valid once (made for this very account) opens nothing.
    link = reverse(
        "account_activate",
        args=[
            urlsafe_base64_encode(force_bytes(deactivated_account.pk)),
            activation_tokens.make_token(deactivated_account),
        ],
    )

    page = client.get(link)
    posted = client.post(link, PASSWORD)

    assert page.status_code == posted.status_code == 400
    deactivated_account.refresh_from_db()
    assert not deactivated_account.is_active
    assert deactivated_account.check_password("correct horse battery staple")
    assert "_auth_user_id" not in client.session


def test_only_staff_reactivate_an_account(client, deactivated_account):
    deactivated_account.is_active = True  # what the admin's "active" box does
    deactivated_account.save()

    client.post(reverse("sign_up"), {**SIGN_UP, "email": deactivated_account.email})

    assert mail.outbox[-1].subject == "Your skinclinic account"
    signed_in = client.post(
        reverse("login"),
        {"username": deactivated_account.username, "password": "correct horse battery staple"},
    )
    assert signed_in.status_code == 302


def test_a_link_from_a_pending_sign_up_still_works_after_a_second_request(client, db):
    client.post(reverse("sign_up"), SIGN_UP)
    first = link_in(mail.outbox[0])
    client.post(reverse("sign_up"), {**SIGN_UP, "first_name": "Mallory"})

    done = client.post(first, PASSWORD)

    assert done["Location"] == reverse("my_appointments")
    user = User.objects.get(email="maya@example.com")
    assert user.is_active and user.first_name == "Maya"
    assert not PendingSignUp.objects.exists()
    assert client.get(link_in(mail.outbox[1])).status_code == 400  # the re-sent one is spent too


def test_an_expired_sign_up_may_start_over_and_its_old_links_die(client, db, settings):
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    expiry = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    with time_machine.travel(start, tick=False):
        client.post(reverse("sign_up"), SIGN_UP)
    with time_machine.travel(start + expiry - timedelta(minutes=1), tick=False):
        client.post(reverse("sign_up"), {**SIGN_UP, "first_name": "Mallory"})  # a re-send
        resent = link_in(mail.outbox[-1])
        assert Patient.objects.get().first_name == "Maya"

    with time_machine.travel(start + expiry + timedelta(minutes=1), tick=False):
        assert client.get(resent).status_code == 400  # the sign-up expired, whatever the link
        client.post(
            reverse("sign_up"), {**SIGN_UP, "first_name": "Mia", "phone": "+1 404 555 0177"}
        )
        fresh = link_in(mail.outbox[-1])
        assert client.get(resent).status_code == 400
        done = client.post(fresh, PASSWORD)

    assert done["Location"] == reverse("my_appointments")
    patient = Patient.objects.get()
    assert (patient.first_name, str(patient.phone)) == ("Mia", "+14045550177")
    assert User.objects.get().is_active


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_sign_ups_of_one_new_email_make_one_account(settings):
    settings.RATE_LIMITS = {"sign-up": (100, 3600)}
    racers = 10
    ready = threading.Barrier(racers)
    answers: list[object] = []

    def sign_up():
        try:
            browser = Client(raise_request_exception=False)
            ready.wait()
            answers.append(browser.post(reverse("sign_up"), SIGN_UP).status_code)
        except Exception as error:  # noqa: BLE001  (reported through the assert below)
            answers.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [302] * racers
    assert User.objects.filter(email="maya@example.com").count() == 1
    assert Patient.objects.count() == PendingSignUp.objects.count() == 1
    assert len(mail.outbox) == racers
    assert {m.subject for m in mail.outbox} == {"Finish creating your skinclinic account"}


class CountingHasher(MD5PasswordHasher):
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def test_known_and_unknown_emails_get_the_same_work(client, patient, settings):
    """Not a timing test: each branch renders one subject and one body, sends one message
    through the same path and hashes the same number of passwords."""
    settings.PASSWORD_HASHERS = ["tests.test_accounts.CountingHasher"]
    branches = {
        "new": "someone.new@example.com",
        "known": patient.user.email,
        "pending": "someone.new@example.com",
    }
    work = {}
    for branch, email in branches.items():
        CountingHasher.calls, sent = 0, len(mail.outbox)
        response = client.post(reverse("sign_up"), {**SIGN_UP, "email": email})
        templates = [t.name for t in response.templates]
        work[branch] = (
            response.status_code,
            response["Location"],
            len(mail.outbox) - sent,
            [name.rsplit("_", 1)[-1] for name in templates],
            CountingHasher.calls,
        )

    assert work["new"] == work["known"] == work["pending"]
    assert work["new"][2:4] == (1, ["subject.txt", "email.txt"])


# Plain-text emails show names as typed.

AWKWARD = "O'Brien & <Sons>"


def test_registration_emails_are_not_html_escaped(client, db):
    client.post(reverse("sign_up"), {**SIGN_UP, "first_name": AWKWARD})
    known = factories.UserFactory(
        username="known@example.com", email="known@example.com", first_name=AWKWARD
    )
    factories.PatientFactory(user=known)
    client.post(reverse("sign_up"), {**SIGN_UP, "email": "known@example.com"})
    client.post(reverse("password_reset"), {"email": "known@example.com"})

    activation, exists, reset = mail.outbox
    for message in (activation, exists, reset):
        assert f"Hello {AWKWARD}," in message.body
        assert "&#x27;" not in message.body and "&amp;" not in message.body
    assert "&" not in link_in(activation) and "&amp;" not in link_in(reset)


def test_the_migration_carries_over_only_sign_ups_that_were_clearly_waiting(db):
    from django.apps import apps

    migration = importlib.import_module("booking.migrations.0009_pending_sign_up")
    waiting = User.objects.create_user(username="new@example.com", is_active=False)
    Patient.objects.create(user=waiting, first_name="New", last_name="Patient")
    never_used = User.objects.create_user(username="ghost", is_active=False)  # no patient
    staff = User.objects.create_user(username="desk2", is_active=False, is_staff=True)
    Patient.objects.create(user=staff, first_name="Desk", last_name="Two")
    patient = factories.PatientFactory(user=deactivated(username="gone@example.com")).user

    migration.carry_over_waiting_sign_ups(apps, None)

    assert list(PendingSignUp.objects.values_list("user", "started_at")) == [
        (waiting.pk, waiting.date_joined)
    ]
    assert {never_used.pk, staff.pk, patient.pk}.isdisjoint(
        PendingSignUp.objects.values_list("user", flat=True)
    )


# The account's API tokens ---------------------------------------------------------------------


def make_tokens(user, *names: str) -> list[str]:
    return [tokens.issue_token(user, name=name)[0].token_key for name in names]


def test_the_tokens_page_lists_each_device_in_constant_queries(
    client, patient, django_assert_num_queries
):
    sign_in(client, patient.user)
    make_tokens(patient.user, "Front desk iPad")
    # session, user, django-otp's device of the session, the tokens with their devices, and
    # the menu's patient and provider
    with django_assert_num_queries(6):
        one = client.get(reverse("account_tokens"))
    make_tokens(patient.user, "SkinclinicApp/2.1", "curl/8.5")
    with django_assert_num_queries(6):
        three = client.get(reverse("account_tokens"))

    assert "Front desk iPad" in one.text
    assert all(name in three.text for name in ("Front desk iPad", "SkinclinicApp/2.1", "curl/8.5"))


def test_the_tokens_page_signs_out_one_device_or_all(client, patient):
    ipad, phone, laptop = make_tokens(patient.user, "iPad", "phone", "laptop")
    someone_else = make_tokens(factories.PatientFactory().user, "theirs")[0]
    sign_in(client, patient.user)

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
