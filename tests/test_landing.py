"""Every role lands where it works, from every sign-in door (accounts.landing): the public
"Sign in" link, the staff door (/staff/), the two-step code, setting up an authenticator, the
code asked again later; a `next` the user may open is kept, one they may not is dropped."""

from base64 import b32decode
from datetime import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.roles import has_staff_role
from tests import factories
from tests.helpers import NEW_YORK, authenticator, totp_code

pytestmark = pytest.mark.usefixtures("isolated_cache")

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
NOON = datetime(2027, 3, 1, 12, 0, 5, tzinfo=NEW_YORK)  # 5 s into a 30-second step


@pytest.fixture(autouse=True)
def clinic_location(db):
    """The desk calendar needs a location to show."""
    return factories.LocationFactory()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def aesthetician():
    return factories.ProviderFactory(user__username="aesthetician").user


def front_desk():
    return factories.UserFactory(username="desk", groups=["Front desk"])


def owner():
    return factories.UserFactory(username="owner", is_staff=True, is_superuser=True)


def patient():
    return factories.PatientFactory(user__username="patient").user


def admin_only():
    """Uses the Django admin and nothing else (is_staff, no clinic group)."""
    return factories.UserFactory(username="admin", is_staff=True)


def sign_in_through_the_pages(client, user, next_url: str = "") -> str:
    """Password, then (staff, who have set up their authenticator app) the code, as the
    browser does; the URL the last redirect points to."""
    if has_staff_role(user):
        authenticator(user)
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("login"), data)
    assert response.status_code == 302, response.content
    target = response["Location"]
    if target.startswith(reverse("two_factor_verify")):
        nxt = client.get(target).context["next"]
        response = client.post(
            reverse("two_factor_verify"), {"code": totp_code(authenticator(user)), "next": nxt}
        )
        assert response.status_code == 302, response.content
        target = response["Location"]
    return target


LANDINGS = [
    (aesthetician, "my_day"),
    (front_desk, "desk:calendar"),
    (owner, "desk:calendar"),
    (patient, "my_appointments"),
    (admin_only, "admin:index"),
]


@pytest.mark.parametrize(("make", "page"), LANDINGS, ids=lambda v: getattr(v, "__name__", v))
def test_the_public_sign_in_link_lands_each_role_on_its_own_page(client, db, make, page):
    user = make()

    target = sign_in_through_the_pages(client, user)

    assert target == reverse(page)
    assert client.get(target).status_code == 200


@pytest.mark.parametrize(("make", "page"), LANDINGS, ids=lambda v: getattr(v, "__name__", v))
def test_the_staff_door_lands_each_role_where_it_works_instead_of_a_403(client, db, make, page):
    """/staff/ is the desk calendar: an aesthetician asked to sign in there lands on My day."""
    user = make()
    asked = client.get("/staff/")
    assert asked.status_code == 302
    sign_in_page = client.get(asked["Location"])
    assert sign_in_page.context["next"] == "/staff/"

    target = sign_in_through_the_pages(client, user, next_url="/staff/")

    assert target == ("/staff/" if page == "desk:calendar" else reverse(page))
    assert client.get(target).status_code == 200


@pytest.mark.parametrize(
    ("make", "next_url"),
    [
        (aesthetician, "/staff/my-day/?date=2027-03-02"),
        (front_desk, "/staff/patients/"),
        (patient, "/my/details/"),
        (patient, "/treatments/"),
        (admin_only, "/admin/auth/user/"),
    ],
)
def test_a_next_page_the_role_may_open_is_kept(client, db, make, next_url):
    user = make()

    assert sign_in_through_the_pages(client, user, next_url=next_url) == next_url


@pytest.mark.parametrize(
    ("make", "next_url", "page"),
    [
        (patient, "/staff/calendar/", "my_appointments"),
        (patient, "/staff/my-day/", "my_appointments"),
        (patient, "/admin/", "my_appointments"),
        (aesthetician, "/staff/patients/", "my_day"),
        (aesthetician, "/my/", "my_day"),
        (front_desk, "/my/", "desk:calendar"),
        (front_desk, "/admin/", "desk:calendar"),
        (patient, "https://evil.example/phish", "my_appointments"),
        (patient, "/no-such-page/", "my_appointments"),
    ],
)
def test_a_next_page_the_role_may_not_open_is_dropped(client, db, make, next_url, page):
    user = make()

    target = sign_in_through_the_pages(client, user, next_url=next_url)

    assert target == reverse(page)
    assert client.get(target).status_code == 200


def test_the_password_step_hands_the_filtered_next_to_the_code_step(client, db):
    user = aesthetician()
    authenticator(user)

    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD, "next": "/staff/"}
    )

    assert response["Location"] == f"{reverse('two_factor_verify')}?next=%2Fstaff%2Fmy-day%2F"


def test_a_code_asked_again_later_does_not_send_an_aesthetician_to_the_desk(client, db):
    """Password given, code not yet: the gate (accounts.middleware) sends /staff/ to the code
    page with next=/staff/; after the code the aesthetician lands on My day, not a 403."""
    user = aesthetician()
    device = authenticator(user)
    client.force_login(user)
    gate = client.get("/staff/")
    assert gate["Location"].startswith(reverse("two_factor_verify"))

    response = client.post(gate["Location"], {"code": totp_code(device), "next": "/staff/"})

    assert response["Location"] == reverse("my_day")


def test_an_aesthetician_setting_up_two_step_sign_in_continues_to_my_day(client, db):
    user = factories.ProviderFactory(user__username="new").user  # no authenticator yet
    to_setup = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD, "next": "/staff/"}
    )
    assert to_setup["Location"].startswith(reverse("two_factor_setup"))
    page = client.get(to_setup["Location"])
    secret = page.context["secret"]
    code = f"{TOTP(b32decode(secret.replace(' ', ''))).token():06d}"

    done = client.post(reverse("two_factor_setup"), {"code": code, "next": page.context["next"]})
    codes = client.get(done["Location"])

    assert codes.context["next"] == reverse("my_day")
    assert f'href="{reverse("my_day")}"' in codes.content.decode()


def test_a_patient_opting_in_later_goes_back_to_the_two_step_page(client, db):
    user = patient()
    client.force_login(user)
    page = client.get(reverse("two_factor_setup"))
    secret = page.context["secret"]
    code = f"{TOTP(b32decode(secret.replace(' ', ''))).token():06d}"

    done = client.post(reverse("two_factor_setup"), {"code": code})

    assert done["Location"] == reverse("two_factor_recovery_codes")


def test_a_patient_with_a_booking_draft_lands_back_on_the_review(db):
    client = Client()
    user = patient()
    session = client.session
    session["booking_draft"] = {"start": "2027-03-02T10:00:00-05:00"}
    session.save()

    assert sign_in_through_the_pages(client, user) == reverse("book_review")
