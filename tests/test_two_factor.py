"""Two-step sign-in (django-otp): staff give a code from an authenticator app after their
password, set one up on first sign-in, keep recovery codes; patients may opt in; the admin
resets a lost phone; nothing staff-only opens before the code, on any door."""

import re
from base64 import b32decode
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.models import AuditEntry
from tests import factories
from tests.helpers import NEW_YORK, authenticator, sign_in, totp_code

pytestmark = pytest.mark.usefixtures("isolated_cache")

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
NOON = datetime(2027, 3, 1, 12, 0, 5, tzinfo=NEW_YORK)  # 5 s into a 30-second step
FEW = {"sign-in": (3, 900), "sign-up": (10, 3600), "booking": (10, 3600)}


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk_user(db):
    return factories.UserFactory(username="desk", groups=["Front desk"])


def password_step(client, user, next_url: str = ""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def code_step(client, code: str, next_url: str = ""):
    return client.post(reverse("two_factor_verify"), {"code": code, "next": next_url})


def staff_pages(patient) -> list[str]:
    return [
        reverse("desk:calendar"),
        reverse("desk:patients"),
        reverse("desk:patient", args=[patient.pk]),
        reverse("staff_reports"),
        "/admin/",
        "/admin/booking/patient/",
    ]


# --- The second step ------------------------------------------------------------------------


def test_staff_with_an_authenticator_are_asked_for_a_code_after_the_password(
    client, desk_user, clock
):
    authenticator(desk_user)

    response = password_step(client, desk_user, next_url=reverse("desk:calendar"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert "next=%2Fstaff%2F" in response["Location"]
    page = client.get(response["Location"])
    assert "Enter your code" in page.text


def test_before_the_code_no_staff_page_no_admin_and_no_patient_data_opens(
    client, desk_user, patient, clock
):
    authenticator(desk_user)
    password_step(client, desk_user)

    for url in staff_pages(patient):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("two_factor_verify")), url
        assert patient.last_name not in response.text


def test_an_htmx_fragment_before_the_code_sends_the_window_to_the_second_step(
    client, desk_user, clock
):
    authenticator(desk_user)
    password_step(client, desk_user)

    response = client.get(reverse("desk:patients"), headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("two_factor_verify")


def test_the_api_does_not_take_a_session_that_still_owes_its_code(
    client, desk_user, patient, clock
):
    device = authenticator(desk_user)
    password_step(client, desk_user)

    refused = client.get("/api/v1/appointments/")
    code_step(client, totp_code(device))
    allowed = client.get("/api/v1/appointments/")

    assert refused.status_code in {401, 403}
    assert allowed.status_code == 200


def test_the_right_code_opens_the_staff_pages_and_goes_where_the_desk_was_headed(
    client, desk_user, patient, clock
):
    device = authenticator(desk_user)
    password_step(client, desk_user, next_url=reverse("desk:patients"))

    response = code_step(client, totp_code(device), next_url=reverse("desk:patients"))

    assert response["Location"] == reverse("desk:patients")
    assert client.get(reverse("desk:patients")).status_code == 200
    assert client.get(reverse("desk:patient", args=[patient.pk])).status_code == 200


def test_a_wrong_code_is_refused_with_a_reason(client, desk_user, clock):
    device = authenticator(desk_user)
    password_step(client, desk_user)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = code_step(client, wrong)

    assert response.status_code == 400
    assert "That code is not right" in response.text
    assert client.get(reverse("desk:calendar")).status_code == 302


def test_after_a_wrong_code_the_device_waits_before_the_next_try(client, desk_user, clock):
    device = authenticator(desk_user)
    password_step(client, desk_user)
    code_step(client, "000000" if totp_code(device) != "000000" else "111111")

    too_soon = code_step(client, totp_code(device))
    clock.shift(timedelta(seconds=2))
    later = code_step(client, totp_code(device))

    assert too_soon.status_code == 400 and "Too many wrong codes. Wait 1 second," in too_soon.text
    assert later.status_code == 302


def test_wrong_codes_count_as_failed_sign_ins(client, desk_user, settings, clock):
    settings.RATE_LIMITS = FEW
    authenticator(desk_user)
    password_step(client, desk_user)
    for _ in range(3):
        assert code_step(client, "12345x").status_code == 400

    response = code_step(client, "123456")

    assert response.status_code == 429
    assert password_step(client, desk_user).status_code == 429  # the same limit


def test_a_code_cannot_be_used_twice(client, desk_user, clock):
    device = authenticator(desk_user)
    code = totp_code(device)
    password_step(client, desk_user)
    assert code_step(client, code).status_code == 302
    client.post(reverse("logout"))

    clock.shift(timedelta(seconds=10))  # the same 30-second step: the app still shows it
    password_step(client, desk_user)
    replayed = code_step(client, code)

    assert totp_code(device) == code
    assert replayed.status_code == 400
    assert "already used" in replayed.text
    clock.shift(timedelta(seconds=30))
    assert code_step(client, totp_code(device)).status_code == 302


def test_a_recovery_code_signs_in_once(client, desk_user, clock):
    from accounts import two_factor

    authenticator(desk_user)
    codes = two_factor.new_recovery_codes(desk_user)
    password_step(client, desk_user)

    first = code_step(client, codes[0].upper())
    client.post(reverse("logout"))
    password_step(client, desk_user)
    again = code_step(client, codes[0])

    assert first.status_code == 302
    assert client.get(first["Location"], follow=True).status_code == 200
    assert again.status_code == 400
    assert StaticToken.objects.filter(device__user=desk_user).count() == 9
    clock.shift(timedelta(seconds=5))
    assert code_step(client, codes[1]).status_code == 302


def test_an_unverified_session_cannot_set_up_a_second_authenticator(client, desk_user, clock):
    """Otherwise a stolen password would be enough: set up your own phone, skip theirs."""
    authenticator(desk_user)
    password_step(client, desk_user)

    response = client.get(reverse("two_factor_setup"))

    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert TOTPDevice.objects.filter(user=desk_user).count() == 1


# --- Enrolment ------------------------------------------------------------------------------


def code_for_secret(secret_text: str) -> str:
    """What an authenticator app shows for the typed-in key on the set-up page."""
    key = b32decode(secret_text.replace(" ", ""))
    totp = TOTP(key)
    totp.time = datetime.now().timestamp()
    return f"{totp.token():06d}"


def test_new_staff_set_up_an_authenticator_then_see_ten_recovery_codes_once(
    client, desk_user, location, clock
):
    to_setup = password_step(client, desk_user, next_url=reverse("desk:calendar"))
    assert to_setup["Location"].startswith(reverse("two_factor_setup"))
    assert client.get(reverse("desk:calendar"))["Location"].startswith(reverse("two_factor_setup"))

    page = client.get(to_setup["Location"])
    assert page.status_code == 200
    assert "<svg" in page.text and "<script" not in page.text.split("<svg")[1].split("</svg>")[0]
    secret = re.search(r'<code class="fs-5" id="secret">([A-Z2-7 ]+)</code>', page.text).group(1)
    assert client.get(to_setup["Location"]).text.count(secret) == 1  # same secret on reload

    wrong = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert wrong.status_code == 400
    clock.shift(timedelta(seconds=2))  # the wrong code made the device wait a second
    confirmed = client.post(
        reverse("two_factor_setup"),
        {"code": code_for_secret(secret), "next": reverse("desk:calendar")},
    )

    assert confirmed.status_code == 302
    codes_page = client.get(confirmed["Location"])
    codes = re.findall(r'<li class="col">([a-z2-7]{8})</li>', codes_page.text)
    assert len(codes) == 10
    assert codes_page["Cache-Control"] == "no-store, private"
    assert f'href="{reverse("desk:calendar")}"' in codes_page.text
    assert codes[0] not in client.get(reverse("two_factor_recovery_codes")).text  # shown once
    assert client.get(reverse("desk:calendar")).status_code == 200
    device = TOTPDevice.objects.get(user=desk_user)
    assert device.confirmed

    client.post(reverse("logout"))
    clock.shift(timedelta(seconds=30))
    to_code = password_step(client, desk_user)
    assert to_code["Location"].startswith(reverse("two_factor_verify"))
    assert code_step(client, code_for_secret(secret)).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, desk_user, clock):
    from accounts import two_factor

    old = two_factor.new_recovery_codes(desk_user)
    sign_in(client, desk_user)

    client.post(reverse("two_factor_recovery_codes"))
    page = client.get(reverse("two_factor_recovery_codes"))

    new = re.findall(r'<li class="col">([a-z2-7]{8})</li>', page.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=desk_user).values_list("token", flat=True)
    ) == set(new)


# --- Patients opt in ------------------------------------------------------------------------


def test_a_patient_signs_in_with_the_password_alone_until_they_turn_it_on(client, patient, clock):
    response = password_step(client, patient.user)

    assert response["Location"] == reverse("my_appointments")
    assert client.get(reverse("my_appointments")).status_code == 200
    assert "Off: your password alone" in client.get(reverse("two_factor")).text


def test_a_patient_who_turns_it_on_is_asked_for_the_code_at_the_next_sign_in(
    client, patient, clock
):
    password_step(client, patient.user)
    assert "Two-step sign-in" in client.get(reverse("my_appointments")).text
    page = client.get(reverse("two_factor_setup"))
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', page.text).group(1)
    assert (
        client.post(reverse("two_factor_setup"), {"code": code_for_secret(secret)}).status_code
        == 302
    )
    client.post(reverse("logout"))

    clock.shift(timedelta(seconds=30))
    response = password_step(client, patient.user)

    assert response["Location"].startswith(reverse("two_factor_verify"))
    blocked = client.get(reverse("my_appointments"))
    assert blocked.status_code == 302 and patient.last_name not in blocked.text
    assert code_step(client, code_for_secret(secret), next_url=reverse("my_appointments"))[
        "Location"
    ] == reverse("my_appointments")
    assert client.get(reverse("my_appointments")).status_code == 200


def test_a_patient_may_turn_it_off_but_staff_may_not(client, patient, desk_user, clock):
    authenticator(patient.user)
    sign_in(client, patient.user)
    client.post(reverse("two_factor_turn_off"))
    assert not TOTPDevice.objects.filter(user=patient.user).exists()
    assert AuditEntry.objects.get(action="two_factor_off").patient == patient

    staff = sign_in(client, desk_user)
    response = staff.post(reverse("two_factor_turn_off"), follow=True)

    assert "must keep two-step sign-in" in response.text
    assert TOTPDevice.objects.filter(user=desk_user, confirmed=True).exists()


# --- The policy and the admin ---------------------------------------------------------------


def test_the_policy_off_lets_staff_without_an_app_sign_in_with_the_password(
    client, desk_user, location, settings, clock
):
    settings.OTP_REQUIRED_FOR_STAFF = False

    response = password_step(client, desk_user)

    assert not response["Location"].startswith("/accounts/two-factor/")
    assert client.get(reverse("desk:calendar")).status_code == 200


def test_the_policy_off_still_asks_staff_who_have_an_app(client, desk_user, settings, clock):
    settings.OTP_REQUIRED_FOR_STAFF = False
    authenticator(desk_user)

    response = password_step(client, desk_user)

    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_the_admin_requires_a_verified_session(client, db, clock):
    owner = factories.UserFactory(username="owner", is_staff=True, is_superuser=True)
    device = authenticator(owner)

    signed = client.post(
        "/admin/login/?next=/admin/",
        {"username": "owner", "password": PASSWORD, "next": "/admin/"},
    )
    assert signed.status_code == 302
    to_code = client.get("/admin/")
    assert to_code["Location"].startswith(reverse("two_factor_verify"))
    assert client.get("/admin/login/")["Location"].startswith(reverse("two_factor_verify"))

    assert code_step(client, totp_code(device), next_url="/admin/")["Location"] == "/admin/"
    assert "Site administration" in client.get("/admin/").text


def test_the_admin_resets_a_lost_phone_and_the_reset_is_audited(client, desk_user, clock):
    owner = factories.UserFactory(username="owner", is_staff=True, is_superuser=True)
    authenticator(desk_user)
    from accounts import two_factor

    two_factor.new_recovery_codes(desk_user)
    sign_in(client, owner)
    listing = client.get("/admin/auth/user/")
    assert "Two-step sign-in" in listing.text

    response = client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [desk_user.pk]},
        follow=True,
    )

    assert "Two-step sign-in reset for 1 account" in response.text
    assert not TOTPDevice.objects.filter(user=desk_user).exists()
    entry = AuditEntry.objects.get(action="two_factor_reset")
    assert entry.actor == owner
    assert entry.changes == {
        "two_factor_devices": [["Recovery codes", "Test phone"], []],
        "account": "desk",
    }
    assert password_step(Client(), desk_user)["Location"].startswith(reverse("two_factor_setup"))


def test_the_admin_does_not_show_anyones_authenticator_secret(client, db, clock):
    owner = factories.UserFactory(username="owner", is_staff=True, is_superuser=True)
    sign_in(client, owner)

    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_the_user_list_shows_two_step_sign_in_in_a_constant_number_of_queries(
    client, db, clock, django_assert_max_num_queries
):
    owner = factories.UserFactory(username="owner", is_staff=True, is_superuser=True)
    sign_in(client, owner)
    client.get("/admin/auth/user/")
    for n in range(10):
        authenticator(factories.UserFactory(username=f"staff{n}", groups=["Front desk"]))

    with django_assert_max_num_queries(12):
        response = client.get("/admin/auth/user/")

    assert response.text.count('alt="True"') >= 11


# --- The demo -------------------------------------------------------------------------------


def test_demo_staff_sign_in_with_the_published_secret(client, db, monkeypatch, clock):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-2027")
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "SKINCLINICDEMOSECRETFORMAKERUN23" in out.getvalue()
    frontdesk = User.objects.get(username="frontdesk")

    printed = StringIO()
    call_command("demo_code", "frontdesk", stdout=printed)
    client.post(reverse("login"), {"username": "frontdesk", "password": "demo-password-2027"})
    response = code_step(client, printed.getvalue().split()[0])

    assert response.status_code == 302
    assert printed.getvalue().split()[0] == code_for_secret("SKINCLINICDEMOSECRETFORMAKERUN23")
    assert client.get(reverse("desk:calendar")).status_code == 200
    assert TOTPDevice.objects.filter(user=frontdesk).count() == 1
