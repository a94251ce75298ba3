"""The JSON API under /api/v1/: public lists, free times, tokens, plans and appointments."""

import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from drf_spectacular.validation import validate_schema
from knox.models import AuthToken
from rest_framework.test import APIClient

from booking import services
from booking.models import Appointment, ClosedDay, Location
from tests import factories
from tests.helpers import NEW_YORK, at, authenticator, book, sign_in, totp_code
from treatments.models import Treatment

API = "/api/v1"
NEXT_WEEK = date(2027, 3, 9)  # a Tuesday, well outside the 48-hour notice
TUESDAY = date(2027, 3, 2)
# New York springs forward on 2027-03-14 at 02:00 EST (07:00 UTC): -05:00 before, -04:00 after.
AVAILABILITY_QUERIES = 4  # treatment, location, load_schedules' two; the budget is 10

# Throttle counts must not leak between tests (or into the Redis other runs share).
pytestmark = pytest.mark.usefixtures("isolated_cache")


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        sign_in(client, user)
    return client


def free_times(client, clinic, start, end, **extra):
    params = {
        "treatment": clinic["treatment"].slug,
        "location": clinic["location"].slug,
        "start": start,
        "end": end,
        **extra,
    }
    return client.get(f"{API}/availability/", params)


def booking_body(clinic, start: datetime, **extra) -> dict:
    return {
        "treatment": clinic["treatment"].slug,
        "location": clinic["location"].slug,
        "start": start.isoformat(),
        **extra,
    }


@pytest.fixture
def frozen(now):
    with time_machine.travel(now, tick=False):
        yield now


# Public lists --------------------------------------------------------------------------------


def test_treatments_are_public_with_timings_prices_and_protocol(clinic):
    factories.TreatmentFactory(name="Consultation", duration_minutes=30, numbing_minutes=0)

    response = client_for().get(f"{API}/treatments/")

    assert response.status_code == 200
    by_slug = {t["slug"]: t for t in response.json()}
    needling = by_slug["microneedling"]
    assert needling["name"] == "Microneedling"
    assert (needling["duration_minutes"], needling["numbing_minutes"]) == (60, 30)
    assert (needling["cleanup_minutes"], needling["visit_minutes"]) == (15, 90)
    assert needling["price"] == "350.00"
    assert needling["protocol"] == {
        "min_sessions": 3,
        "default_sessions": 3,
        "max_sessions": 5,
        "interval_min_days": 28,
        "interval_max_days": 42,
        "maintenance_offsets_months": [6, 12],
        "maintenance_window_days": 14,
        "describe": "3 to 5 sessions, 4 to 6 weeks apart, then maintenance at 6 and 12 months",
    }
    assert by_slug["consultation"]["protocol"] is None


def test_treatments_list_the_health_questions_to_answer_when_booking(clinic, screening_rules):
    response = client_for().get(f"{API}/treatments/")

    needling = {t["slug"]: t for t in response.json()}["microneedling"]
    by_code = {q["code"]: q for q in needling["screening"]}
    assert "pregnancy" in by_code
    assert by_code["isotretinoin"]["lookback_days"] == 183


def test_locations_are_public_with_their_time_zone(clinic):
    response = client_for().get(f"{API}/locations/")

    assert response.status_code == 200
    [location] = response.json()
    assert location["slug"] == "buckhead"
    assert location["time_zone"] == "America/New_York"
    assert location["phone"] == "+14045550100"


# Availability ---------------------------------------------------------------------------------


def test_availability_lists_free_times_in_the_locations_wall_clock(clinic, frozen):
    response = free_times(client_for(), clinic, "2027-03-02", "2027-03-02")

    assert response.status_code == 200
    slots = response.json()["slots"]
    # 09:00 to 15:30 every 15 minutes: a 90-minute visit must end by 17:00.
    assert len(slots) == 27
    assert slots[0] == {
        "start": "2027-03-02T09:00:00-05:00",
        "end": "2027-03-02T10:30:00-05:00",
        "provider": clinic["provider"].pk,
        "provider_name": clinic["provider"].display_name,
    }
    assert slots[-1]["start"] == "2027-03-02T15:30:00-05:00"


def test_availability_leaves_out_booked_times(clinic, patient, frozen):
    book(clinic, patient, at(TUESDAY, 10), frozen)

    starts = [
        s["start"] for s in free_times(client_for(), clinic, TUESDAY, TUESDAY).json()["slots"]
    ]

    assert "2027-03-02T09:45:00-05:00" not in starts  # its treatment would overlap
    assert "2027-03-02T10:00:00-05:00" not in starts
    assert "2027-03-02T11:45:00-05:00" in starts  # after the cleanup


def test_availability_keeps_wall_clock_times_across_the_dst_change(clinic, frozen):
    response = free_times(client_for(), clinic, "2027-03-12", "2027-03-15")

    slots = response.json()["slots"]
    starts = [s["start"] for s in slots]
    assert starts[0] == "2027-03-12T09:00:00-05:00"  # Friday, before the change
    assert "2027-03-15T09:00:00-04:00" in starts  # Monday, after it: still 09:00
    assert not any(s.startswith(("2027-03-13", "2027-03-14")) for s in starts)  # weekend
    instants = [datetime.fromisoformat(s) for s in starts]
    assert instants == sorted(instants)


def test_availability_for_one_aesthetician(clinic, frozen):
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )

    everyone = free_times(client_for(), clinic, TUESDAY, TUESDAY).json()["slots"]
    one = free_times(client_for(), clinic, TUESDAY, TUESDAY, provider=other.pk).json()["slots"]

    assert {s["provider"] for s in everyone} == {clinic["provider"].pk, other.pk}
    assert {s["provider"] for s in one} == {other.pk}


def test_availability_by_time_lists_each_start_once_with_everyone_free_then(
    clinic, patient, frozen
):
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]], display_name="Zoe Ng"
    )
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    book(clinic, patient, at(TUESDAY, 10), frozen, provider=clinic["provider"])

    response = free_times(client_for(), clinic, TUESDAY, TUESDAY, group="time")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    both, mine = sorted([clinic["provider"].pk, other.pk]), [other.pk]
    times = {t["start"]: t for t in body["times"]}
    assert len(times) == len(body["times"]) == 27  # 09:00 to 15:30, each once
    # The 10:00 visit holds its aesthetician from 10:30 (after numbing) to 11:45, so a visit
    # at 09:00 (held 09:30-10:45) up to 11:00 only fits the other one; from 11:15 both.
    assert times["2027-03-02T09:00:00-05:00"] == {
        "start": "2027-03-02T09:00:00-05:00",
        "end": "2027-03-02T10:30:00-05:00",
        "providers": mine,
    }
    assert times["2027-03-02T10:00:00-05:00"]["providers"] == mine
    assert times["2027-03-02T11:00:00-05:00"]["providers"] == mine
    assert times["2027-03-02T11:15:00-05:00"]["providers"] == both
    assert {p["id"]: p["name"] for p in body["providers"]} == {
        clinic["provider"].pk: clinic["provider"].display_name,
        other.pk: "Zoe Ng",
    }


def test_availability_by_time_is_the_default_answer_grouped(clinic, patient, frozen):
    for _ in range(3):
        factories.ProviderFactory(locations=[clinic["location"]], treatments=[clinic["treatment"]])
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    book(clinic, patient, at(TUESDAY, 11), frozen)
    client = client_for()
    last_day = TUESDAY + timedelta(days=6)

    slots = free_times(client, clinic, TUESDAY, last_day).json()["slots"]
    body = free_times(client, clinic, TUESDAY, last_day, group="time").json()

    names = {p["id"]: p["name"] for p in body["providers"]}
    assert [
        {"start": t["start"], "end": t["end"], "provider": pk, "provider_name": names[pk]}
        for t in body["times"]
        for pk in t["providers"]
    ] == slots
    assert free_times(client, clinic, TUESDAY, last_day, group="provider").json()["slots"] == slots


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        (
            {"treatment": None, "location": None, "start": None, "end": None},
            "treatment",
            "required",
        ),
        ({"start": None}, "start", "required"),
        ({"start": "2027-13-01"}, "start", "YYYY-MM-DD"),
        ({"start": "2027-02-30"}, "start", "YYYY-MM-DD"),
        ({"start": "tomorrow"}, "start", "YYYY-MM-DD"),
        ({"start": "0001-01-01"}, "start", "between"),
        ({"end": "9999-12-31"}, "end", "between"),
        ({"start": "2027-03-10", "end": "2027-03-09"}, "end", "before the start"),
        ({"start": "2027-03-01", "end": "2027-06-01"}, "end", "at most 92 days"),
        ({"treatment": "botox"}, "treatment", "no treatment called"),
        ({"treatment": "micro\x00needling"}, "treatment", "no treatment called"),
        ({"location": "../../etc"}, "location", "no location called"),
        ({"provider": "abc"}, "provider", "valid integer"),
        ({"provider": "99999999999999999999999"}, "provider", "less than or equal"),
        ({"provider": "0"}, "provider", "greater than or equal"),
        ({"group": "room"}, "group", "not a valid choice"),
    ],
)
def test_availability_refuses_bad_input_with_a_reason(clinic, frozen, params, field, words):
    query = {
        "treatment": "microneedling",
        "location": "buckhead",
        "start": "2027-03-02",
        "end": "2027-03-05",
        **params,
    }
    query = {key: value for key, value in query.items() if value is not None}

    response = client_for().get(f"{API}/availability/", query)

    assert response.status_code == 400
    assert words in " ".join(response.json()[field])


def test_treatment_and_location_are_read_as_the_orm_reads_them_and_afresh_each_time(clinic):
    """The slug lookups compiled once per process (api.fields) give the rows the ORM gives,
    converted fields included, and see a change made after they were compiled."""
    from api.serializers import AvailabilityQuerySerializer

    def validated(**params):
        query = {
            "treatment": "microneedling",
            "location": "buckhead",
            "start": "2027-03-02",
            "end": "2027-03-05",
            **params,
        }
        serializer = AvailabilityQuerySerializer(data=query)
        return serializer.validated_data if serializer.is_valid() else serializer.errors

    found = validated()
    treatment, location = found["treatment"], found["location"]
    expected = Location.objects.get(pk=clinic["location"].pk)
    assert location == expected and treatment == clinic["treatment"]
    assert location.phone == expected.phone and str(location.phone) == "+14045550100"
    assert location.zone == expected.zone and treatment.price == clinic["treatment"].price
    assert {f.attname: getattr(location, f.attname) for f in Location._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in Location._meta.concrete_fields
    }
    assert location._state.db == "default" and not location._state.adding

    Treatment.objects.filter(pk=treatment.pk).update(is_active=False)
    assert validated()["treatment"] == ["There is no treatment called “microneedling”."]
    Treatment.objects.filter(pk=treatment.pk).update(is_active=True)
    Location.objects.filter(pk=location.pk).update(slug="midtown", name="Midtown")
    assert validated()["location"] == ["There is no location called “buckhead”."]
    assert validated(location="midtown")["location"].name == "Midtown"


def test_availability_names_every_missing_parameter(clinic):
    response = client_for().get(f"{API}/availability/")

    assert response.status_code == 400
    assert set(response.json()) == {"treatment", "location", "start", "end"}


def test_availability_refuses_an_aesthetician_who_does_not_offer_it(clinic, frozen):
    elsewhere = factories.ProviderFactory()

    response = free_times(client_for(), clinic, TUESDAY, TUESDAY, provider=elsewhere.pk)

    assert response.status_code == 400
    assert "does not offer" in response.json()["provider"][0]


def test_a_92_day_range_is_allowed(clinic, frozen):
    response = free_times(client_for(), clinic, "2027-03-01", "2027-05-31")

    assert response.status_code == 200


@pytest.mark.parametrize("group", ["provider", "time"])
@pytest.mark.parametrize(("providers", "weeks"), [(1, 1), (20, 1), (1, 6), (20, 6)])
def test_availability_takes_the_same_queries_whatever_the_size(
    clinic, frozen, providers, weeks, group, django_assert_num_queries
):
    for _ in range(providers - 1):
        factories.ProviderFactory(locations=[clinic["location"]], treatments=[clinic["treatment"]])
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    patient = factories.PatientFactory()
    for week in range(weeks):
        book(clinic, patient, at(TUESDAY + timedelta(weeks=week), 11), frozen)
    client = client_for()
    last_day = TUESDAY + timedelta(weeks=weeks) - timedelta(days=1)

    with django_assert_num_queries(AVAILABILITY_QUERIES):
        response = free_times(client, clinic, TUESDAY, last_day, group=group)

    assert response.status_code == 200
    body = response.json()
    offered = (
        {pk for t in body["times"] for pk in t["providers"]}
        if group == "time"
        else {s["provider"] for s in body["slots"]}
    )
    assert len(offered) == providers


# Tokens and authentication --------------------------------------------------------------------


def test_a_token_opens_the_api(patient):
    client = client_for()
    response = client.post(
        f"{API}/auth/token/",
        {"username": patient.user.username, "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/appointments/").status_code == 200


@pytest.mark.parametrize("username", ["known", "nobody"])
def test_wrong_credentials_get_one_generic_message(patient, username):
    name = patient.user.username if username == "known" else "nobody"

    response = client_for().post(
        f"{API}/auth/token/", {"username": name, "password": "guess"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "That username and password do not match an account."}


def obtain(client, user, **extra):
    return client.post(
        f"{API}/auth/token/",
        {"username": user.username, "password": "correct horse battery staple", **extra},
        format="json",
    )


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_staff_get_a_token_only_with_their_second_step(front_desk):
    """A token is as good as a signed-in session: the password alone is not enough for staff."""
    front_desk.set_password("correct horse battery staple")
    front_desk.save()
    client = client_for()

    with time_machine.travel(datetime(2027, 3, 1, 13, 0, 5), tick=False) as traveller:
        not_set_up = obtain(client, front_desk)
        device = authenticator(front_desk)
        without = obtain(client, front_desk)
        code = totp_code(device)
        wrong = obtain(client, front_desk, code="000000" if code != "000000" else "111111")
        traveller.shift(5)  # django-otp makes the device wait a moment after a wrong code
        right = obtain(client, front_desk, code=code)
        replayed = obtain(client, front_desk, code=code)

    assert not_set_up.status_code == without.status_code == wrong.status_code == 400
    assert "Set up two-step sign-in" in not_set_up.json()["detail"]
    assert "send `code`" in without.json()["detail"]
    assert "not right" in wrong.json()["detail"]
    assert right.status_code == 200 and right.json()["token"]
    assert replayed.status_code == 400  # one code, one token
    assert AuthToken.objects.filter(user=front_desk).count() == 1


def test_tokens_are_stored_only_as_a_digest(patient):
    token = obtain(client_for(), patient.user).json()["token"]

    [row] = AuthToken.objects.filter(user=patient.user)
    stored = " ".join(str(value) for value in AuthToken.objects.values_list().get())
    assert token not in stored
    assert row.token_key == token[: len(row.token_key)]
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS


def test_a_token_expires_after_ten_hours(patient, now):
    with time_machine.travel(now, tick=False):
        answer = obtain(client_for(), patient.user).json()
    assert datetime.fromisoformat(answer["expiry"]) == now + timedelta(hours=10)
    client = with_token(answer["token"])

    with time_machine.travel(now + timedelta(hours=9, minutes=59), tick=False):
        assert client.get(f"{API}/appointments/").status_code == 200
    with time_machine.travel(now + timedelta(hours=10, minutes=1), tick=False):
        assert client.get(f"{API}/appointments/").status_code == 401


def test_each_device_gets_its_own_named_token_and_can_list_them(patient):
    ipad = obtain(client_for(), patient.user, name="Front desk iPad").json()
    phone = obtain(APIClient(HTTP_USER_AGENT="SkinclinicApp/2.1 (Android)"), patient.user).json()

    listed = with_token(ipad["token"]).get(f"{API}/auth/tokens/").json()

    assert ipad["token"] != phone["token"]
    assert [(t["key"], t["name"], t["current"]) for t in listed] == [
        (phone["key"], "SkinclinicApp/2.1 (Android)", False),
        (ipad["key"], "Front desk iPad", True),
    ]
    assert all(
        len(t["key"]) < 20 and t["key"] not in (ipad["token"], phone["token"]) for t in listed
    )


def test_logout_revokes_this_token_and_logoutall_every_token(patient):
    first, second, third = (
        with_token(obtain(client_for(), patient.user).json()["token"]) for _ in range(3)
    )

    assert first.post(f"{API}/auth/logout/").status_code == 204
    assert first.get(f"{API}/appointments/").status_code == 401
    assert second.get(f"{API}/appointments/").status_code == 200

    assert second.post(f"{API}/auth/logoutall/").status_code == 204
    assert second.get(f"{API}/appointments/").status_code == 401
    assert third.get(f"{API}/appointments/").status_code == 401


def test_one_token_is_revoked_by_its_key_and_only_by_its_owner(patient):
    mine = obtain(client_for(), patient.user).json()
    other = factories.PatientFactory()
    theirs = obtain(client_for(), other.user).json()
    client = with_token(mine["token"])

    assert client.delete(f"{API}/auth/tokens/{theirs['key']}/").status_code == 404
    assert with_token(theirs["token"]).get(f"{API}/appointments/").status_code == 200
    assert client.delete(f"{API}/auth/tokens/{mine['key']}/").status_code == 204
    assert client.get(f"{API}/appointments/").status_code == 401


@pytest.mark.parametrize("how", ["change", "reset", "admin"])
def test_a_password_change_or_reset_revokes_every_token(patient, how):
    user = patient.user
    client = with_token(obtain(client_for(), user).json()["token"])
    new = "a brand new passphrase 2027"

    if how == "change":
        form = PasswordChangeForm(
            user,
            {
                "old_password": "correct horse battery staple",
                "new_password1": new,
                "new_password2": new,
            },
        )
    elif how == "reset":
        form = SetPasswordForm(user, {"new_password1": new, "new_password2": new})
    else:
        form = AdminPasswordChangeForm(user, {"password1": new, "password2": new})
    assert form.is_valid(), form.errors
    form.save()

    assert client.get(f"{API}/appointments/").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_password_hash_upgrade_is_not_a_change(patient, settings):
    user = patient.user
    token = obtain(client_for(), user).json()["token"]
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]

    assert user.check_password("correct horse battery staple")  # re-hashes with PBKDF2

    assert with_token(token).get(f"{API}/appointments/").status_code == 200


def test_the_password_reset_page_revokes_tokens(patient, client):
    user = patient.user
    api = with_token(obtain(client_for(), user).json()["token"])
    user.refresh_from_db()  # signing in through the API set last_login, which links cover
    link = reverse(
        "password_reset_confirm",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    form_page = client.get(link, follow=True)
    new = "a brand new passphrase 2027"

    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )

    assert done.status_code == 302
    assert api.get(f"{API}/appointments/").status_code == 401


def test_a_deactivated_accounts_token_stops_working(patient):
    client = with_token(obtain(client_for(), patient.user).json()["token"])
    patient.user.is_active = False
    patient.user.save()

    assert client.get(f"{API}/appointments/").status_code == 401


def test_an_account_has_a_limited_number_of_live_tokens(patient, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    assert obtain(client_for(), patient.user).status_code == 200
    assert obtain(client_for(), patient.user).status_code == 200

    refused = obtain(client_for(), patient.user)

    assert refused.status_code == 403
    assert "Revoke one" in refused.json()["detail"]


def test_the_api_needs_a_sign_in_for_appointments(clinic):
    assert client_for().get(f"{API}/appointments/").status_code == 401
    bad = client_for()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.get(f"{API}/appointments/").status_code == 401


# Plans ----------------------------------------------------------------------------------------


def test_a_plan_preview_proposes_every_session_at_the_same_wall_clock_time(clinic, frozen):
    response = client_for().post(
        f"{API}/plans/preview/", booking_body(clinic, at(TUESDAY, 10), sessions=3), format="json"
    )

    assert response.status_code == 200
    sessions = response.json()["sessions"]
    assert [(s["number"], s["kind"]) for s in sessions] == [
        (1, "initial"),
        (2, "initial"),
        (3, "initial"),
        (4, "maintenance"),
        (5, "maintenance"),
    ]
    assert sessions[0]["proposed"] == {
        "start": "2027-03-02T10:00:00-05:00",
        "end": "2027-03-02T11:30:00-05:00",
        "provider": clinic["provider"].pk,
        "provider_name": clinic["provider"].display_name,
    }
    # Session 2 falls after the DST change: still 10:00, now at -04:00.
    assert (sessions[1]["earliest"], sessions[1]["latest"]) == ("2027-03-30", "2027-04-13")
    assert sessions[1]["proposed"]["start"].endswith("T10:00:00-04:00")
    assert sessions[3]["proposed"] is None


def test_a_plan_preview_can_start_from_a_day(clinic, frozen):
    body = booking_body(clinic, at(TUESDAY, 10))
    body["start"] = "2027-03-03"

    response = client_for().post(f"{API}/plans/preview/", body, format="json")

    assert response.status_code == 200
    first = response.json()["sessions"][0]
    assert first["proposed"]["start"].startswith("2027-03-03T")


def test_a_plan_preview_refuses_too_many_sessions(clinic, frozen):
    body = booking_body(clinic, at(TUESDAY, 10), sessions=9)

    response = client_for().post(f"{API}/plans/preview/", body, format="json")

    assert response.status_code == 400
    assert "between 3 and 5" in response.json()["detail"]


def test_a_patient_books_a_whole_plan(clinic, patient, frozen):
    body = booking_body(clinic, at(TUESDAY, 10), sessions=3)

    response = client_for(patient.user).post(f"{API}/plans/", body, format="json")

    assert response.status_code == 201
    plan = response.json()
    assert plan["patient"] == patient.pk and plan["sessions"] == 3
    visits = plan["appointments"]
    assert [v["session_number"] for v in visits] == [1, 2, 3]
    assert {v["plan"] for v in visits} == {plan["id"]}
    assert visits[0]["start"] == "2027-03-02T10:00:00-05:00"


def test_a_plan_that_cannot_be_placed_is_409_naming_the_session(clinic, patient, frozen):
    factories.TimeOffFactory(
        provider=clinic["provider"], start=at(date(2027, 3, 20), 0), end=at(date(2027, 5, 1), 0)
    )
    body = booking_body(clinic, at(TUESDAY, 10), sessions=3)

    response = client_for(patient.user).post(f"{API}/plans/", body, format="json")

    assert response.status_code == 409
    assert response.json()["session"] == 2
    assert "Session 2" in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_an_account_without_a_patient_record_cannot_book(clinic, frozen):
    user = factories.UserFactory()
    client = client_for(user)

    plan = client.post(f"{API}/plans/", booking_body(clinic, at(TUESDAY, 10)), format="json")
    visit = client.post(f"{API}/appointments/", booking_body(clinic, at(TUESDAY, 10)), "json")

    assert plan.status_code == visit.status_code == 403
    assert "no patient record" in plan.json()["detail"]


def test_the_front_desk_books_a_plan_for_a_patient(clinic, patient, front_desk, frozen):
    body = booking_body(clinic, at(TUESDAY, 10), sessions=3, patient=patient.pk)

    response = client_for(front_desk).post(f"{API}/plans/", body, format="json")

    assert response.status_code == 201
    assert response.json()["patient"] == patient.pk


# Appointments ---------------------------------------------------------------------------------


def test_a_patient_books_and_sees_only_their_own(clinic, patient, frozen):
    other = book(clinic, factories.PatientFactory(), at(TUESDAY, 13), frozen)
    client = client_for(patient.user)

    response = client.post(
        f"{API}/appointments/", booking_body(clinic, at(TUESDAY, 10)), format="json"
    )

    assert response.status_code == 201
    visit = response.json()
    assert visit["treatment"] == "microneedling"
    assert visit["treatment_name"] == "Microneedling"
    assert visit["location"] == "buckhead"
    assert visit["provider"] == clinic["provider"].pk
    assert visit["provider_name"] == clinic["provider"].display_name
    assert (visit["start"], visit["end"]) == (
        "2027-03-02T10:00:00-05:00",
        "2027-03-02T11:30:00-05:00",
    )
    assert (visit["status"], visit["kind"], visit["plan"]) == ("booked", "single", None)
    assert visit.pop("payment_due") is None  # no deposit or card asked here
    listed = client.get(f"{API}/appointments/").json()
    assert [v["id"] for v in listed] == [visit["id"]]
    assert client.get(f"{API}/appointments/{visit['id']}/").json() == visit
    missing = client.get(f"{API}/appointments/{other.pk}/")
    assert missing.status_code == 404
    assert missing.json()["detail"]


def test_another_patients_visit_cannot_be_cancelled_or_moved(clinic, patient, frozen):
    other = book(clinic, factories.PatientFactory(), at(TUESDAY, 13), frozen)
    client = client_for(patient.user)

    cancel = client.post(f"{API}/appointments/{other.pk}/cancel/", {}, format="json")
    move = client.post(
        f"{API}/appointments/{other.pk}/reschedule/",
        {"start": at(TUESDAY, 14).isoformat()},
        format="json",
    )

    assert cancel.status_code == move.status_code == 404
    assert Appointment.objects.get(pk=other.pk).status == "booked"


def test_a_patient_cancels_their_visit(clinic, patient, frozen):
    visit = book(clinic, patient, at(NEXT_WEEK, 10), frozen)  # outside the 48-hour notice

    response = client_for(patient.user).post(
        f"{API}/appointments/{visit.pk}/cancel/", {"reason": "Feeling unwell"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    visit.refresh_from_db()
    assert visit.cancellation_reason == "Feeling unwell"
    assert visit.late_cancellation is False
    again = client_for(patient.user).post(f"{API}/appointments/{visit.pk}/cancel/")
    assert again.status_code == 400
    assert "not booked" in again.json()["detail"]


def test_a_patient_moves_their_visit(clinic, patient, frozen):
    visit = book(clinic, patient, at(NEXT_WEEK, 10), frozen)

    response = client_for(patient.user).post(
        f"{API}/appointments/{visit.pk}/reschedule/",
        {"start": "2027-03-16T10:00:00-04:00"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["start"] == "2027-03-16T10:00:00-04:00"


def test_moving_into_a_taken_time_is_409(clinic, patient, frozen):
    book(clinic, factories.PatientFactory(), at(NEXT_WEEK, 10), frozen)
    visit = book(clinic, patient, at(NEXT_WEEK, 13), frozen)

    response = client_for(patient.user).post(
        f"{API}/appointments/{visit.pk}/reschedule/",
        {"start": at(NEXT_WEEK, 10, 30).isoformat()},
        format="json",
    )

    assert response.status_code == 409
    assert "taken" in response.json()["detail"]


def test_booking_a_taken_time_is_409(clinic, patient, frozen):
    book(clinic, factories.PatientFactory(), at(TUESDAY, 10), frozen)

    response = client_for(patient.user).post(
        f"{API}/appointments/", booking_body(clinic, at(TUESDAY, 10)), format="json"
    )

    assert response.status_code == 409
    assert "taken" in response.json()["detail"]


def test_only_the_front_desk_moves_a_session_outside_its_window(
    clinic, patient, front_desk, frozen
):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=frozen,
    )
    second = plan.appointments.get(session_number=2)
    body = {"start": "2027-03-16T10:00:00-04:00", "reason": "Travelling"}

    refused = client_for(patient.user).post(
        f"{API}/appointments/{second.pk}/reschedule/", body, format="json"
    )
    moved = client_for(front_desk).post(
        f"{API}/appointments/{second.pk}/reschedule/", body, format="json"
    )

    assert refused.status_code == 400
    assert "Session 2 must be between Mar 30 and Apr 13" in refused.json()["detail"]
    assert moved.status_code == 200
    second.refresh_from_db()
    assert second.out_of_window_reason == "Travelling"


def test_the_front_desk_books_for_a_patient_and_sees_every_visit(
    clinic, patient, front_desk, frozen
):
    book(clinic, factories.PatientFactory(), at(TUESDAY, 13), frozen)
    client = client_for(front_desk)
    soon = frozen + timedelta(hours=1)  # staff need no online notice

    response = client.post(
        f"{API}/appointments/", booking_body(clinic, soon, patient=patient.pk), format="json"
    )

    assert response.status_code == 201
    booked = Appointment.objects.get(pk=response.json()["id"])
    assert booked.patient == patient and booked.booked_by == front_desk
    assert len(client.get(f"{API}/appointments/").json()) == 2
    assert len(client.get(f"{API}/appointments/", {"patient": patient.pk}).json()) == 1
    assert len(client.get(f"{API}/appointments/", {"date": "2027-03-02"}).json()) == 1
    assert client.get(f"{API}/appointments/", {"date": "2027-03-03"}).json() == []


def test_the_front_desk_must_name_the_patient(clinic, front_desk, frozen):
    response = client_for(front_desk).post(
        f"{API}/appointments/", booking_body(clinic, at(TUESDAY, 10)), format="json"
    )

    assert response.status_code == 400
    assert "which patient" in response.json()["patient"][0]


def test_a_patient_cannot_book_for_someone_else(clinic, patient, frozen):
    other = factories.PatientFactory()

    response = client_for(patient.user).post(
        f"{API}/appointments/", booking_body(clinic, at(TUESDAY, 10), patient=other.pk), "json"
    )

    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_an_aesthetician_sees_the_visits_they_give(clinic, patient, frozen):
    mine = book(clinic, patient, at(TUESDAY, 10), frozen)
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(TUESDAY, 13),
        now=frozen,
        provider=other,
    )
    client = client_for(clinic["provider"].user)

    listed = client.get(f"{API}/appointments/").json()

    assert [v["id"] for v in listed] == [mine.pk]
    cancel = client.post(f"{API}/appointments/{mine.pk}/cancel/")
    assert cancel.status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"start": "2027-03-02T10:00:00"}, "start", "UTC offset"),
        ({"start": "2027-03-02 10am"}, "start", "ISO 8601"),
        ({"start": "2027-02-30T10:00:00-05:00"}, "start", "ISO 8601"),
        ({"start": 20270302}, "start", "ISO 8601"),
        ({"treatment": "nope"}, "treatment", "no treatment"),
        ({"treatment": ["microneedling"]}, "treatment", "no treatment"),
        ({"provider": "first"}, "provider", "valid integer"),
        ({"provider": 999999}, "provider", "does not offer"),
    ],
)
def test_booking_refuses_bad_input_with_a_reason(clinic, patient, frozen, body, field, words):
    response = client_for(patient.user).post(
        f"{API}/appointments/", {**booking_body(clinic, at(TUESDAY, 10)), **body}, format="json"
    )

    assert response.status_code == 400
    assert words in " ".join(response.json()[field])


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ("", "application/json")],
)
def test_a_body_that_is_not_a_json_object_is_400(clinic, patient, data, content_type):
    client = client_for(patient.user)

    response = client.post(f"{API}/appointments/", data=data, content_type=content_type)
    cancel = client.post(f"{API}/appointments/1/cancel/", data=data, content_type=content_type)

    assert response.status_code == 400
    assert response.json()
    assert cancel.status_code in (400, 404)


@pytest.mark.parametrize("path", ["appointments/abc/", "appointments/99999999999999999999999/"])
def test_ids_that_are_not_ids_are_404(patient, path):
    response = client_for(patient.user).get(f"{API}/{path}")

    assert response.status_code == 404
    assert response.json()["detail"]


def test_booking_outside_working_hours_is_400_with_a_reason(clinic, patient, frozen):
    response = client_for(patient.user).post(
        f"{API}/appointments/", booking_body(clinic, at(TUESDAY, 16)), format="json"
    )

    assert response.status_code == 400
    assert "working hours" in response.json()["detail"]


# Schema and docs ------------------------------------------------------------------------------


def test_the_schema_is_valid_openapi(db):
    response = client_for().get(f"{API}/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert f"{API}/availability/" in schema["paths"]
    availability = schema["paths"][f"{API}/availability/"]["get"]
    group = next(p for p in availability["parameters"] if p["name"] == "group")
    assert group["schema"]["enum"] == ["provider", "time"]
    answer = availability["responses"]["200"]["content"]["application/json"]["schema"]
    answer = schema["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    shapes = [
        schema["components"]["schemas"][one["$ref"].rsplit("/", 1)[1]] for one in answer["oneOf"]
    ]
    assert [sorted(shape["properties"]) for shape in shapes] == [["slots"], ["providers", "times"]]
    assert f"{API}/appointments/{{id}}/reschedule/" in schema["paths"]


def test_the_docs_page_loads(db):
    response = client_for().get(f"{API}/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


# Concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_patients_racing_for_one_time_get_one_booking(clinic, now):
    patients = [factories.PatientFactory() for _ in range(20)]
    body = booking_body(clinic, at(TUESDAY, 10))
    ready = threading.Barrier(len(patients))
    statuses = []

    def race(patient):
        try:
            client = APIClient()
            client.force_authenticate(patient.user)
            ready.wait()
            statuses.append(client.post(f"{API}/appointments/", body, format="json").status_code)
        finally:
            connection.close()

    with time_machine.travel(now, tick=False):
        threads = [threading.Thread(target=race, args=(p,)) for p in patients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(statuses) == [201] + [409] * 19
    assert Appointment.objects.active().count() == 1


# Safety screening and the online notice -------------------------------------------------------

ALL_NO = [
    {"code": code, "yes": False}
    for code in (
        "active_infection",
        "active_acne",
        "pregnancy",
        "fitzpatrick_iv_vi",
        "keloid_history",
        "isotretinoin",
    )
]


def test_a_patient_must_answer_todays_health_questions_to_book(
    clinic, patient, screening_rules, frozen
):
    client = client_for(patient.user)

    refused = client.post(
        f"{API}/appointments/", booking_body(clinic, at(date(2027, 3, 2), 10)), format="json"
    )
    booked = client.post(
        f"{API}/appointments/",
        booking_body(clinic, at(date(2027, 3, 2), 10), screening=ALL_NO),
        format="json",
    )

    assert refused.status_code == 409
    assert "health questions" in refused.json()["detail"]
    assert booked.status_code == 201


def test_a_not_now_answer_refuses_the_booking_and_offers_a_consultation(
    clinic, patient, screening_rules, frozen
):
    answers = [dict(a, yes=a["code"] == "pregnancy") for a in ALL_NO]

    response = client_for(patient.user).post(
        f"{API}/plans/",
        {**booking_body(clinic, at(date(2027, 3, 2), 10), screening=answers), "sessions": 3},
        format="json",
    )

    assert response.status_code == 409
    assert "consultation" in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_the_front_desk_books_by_phone_without_the_online_screening(
    clinic, patient, front_desk, screening_rules, frozen
):
    response = client_for(front_desk).post(
        f"{API}/appointments/",
        booking_body(clinic, at(date(2027, 3, 2), 10), patient=patient.pk),
        format="json",
    )

    assert response.status_code == 201


def test_a_patient_cannot_cancel_or_move_online_inside_the_notice(
    clinic, patient, front_desk, frozen
):
    visit = book(clinic, patient, at(date(2027, 3, 2), 10), frozen)  # 26 hours ahead
    client = client_for(patient.user)

    cancel = client.post(f"{API}/appointments/{visit.pk}/cancel/", {}, format="json")
    move = client.post(
        f"{API}/appointments/{visit.pk}/reschedule/",
        {"start": at(date(2027, 3, 2), 13).isoformat()},
        format="json",
    )

    assert cancel.status_code == 409 and move.status_code == 409
    assert "Please call Buckhead" in cancel.json()["detail"]
    desk = client_for(front_desk).post(f"{API}/appointments/{visit.pk}/cancel/", {}, format="json")
    assert desk.status_code == 200


# Throttles ------------------------------------------------------------------------------------


def throttle_rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **rates,
        },
    }


def test_bookings_are_throttled_per_account_with_retry_after(clinic, patient, frozen, settings):
    throttle_rates(settings, bookings="2/hour")
    client = client_for(patient.user)
    for hour in (10, 11):
        client.post(
            f"{API}/appointments/", booking_body(clinic, at(NEXT_WEEK, hour)), format="json"
        )

    refused = client.post(
        f"{API}/appointments/", booking_body(clinic, at(NEXT_WEEK, 13)), format="json"
    )

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert refused.json() == {
        "detail": "Too many bookings requests from you. Try again in 60 minutes."
    }
    assert client.get(f"{API}/appointments/").status_code == 200  # reading is not booking
    other = client_for(factories.PatientFactory().user)
    assert (
        other.post(
            f"{API}/appointments/", booking_body(clinic, at(NEXT_WEEK, 13)), format="json"
        ).status_code
        == 201
    )


def test_plans_are_throttled(clinic, frozen, settings):
    throttle_rates(settings, plans="1/minute")
    body = {**booking_body(clinic, at(NEXT_WEEK, 10)), "sessions": 3}
    client = client_for()

    assert client.post(f"{API}/plans/preview/", body, format="json").status_code == 200
    refused = client.post(f"{API}/plans/preview/", body, format="json")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"


def test_token_requests_are_throttled_even_with_the_right_password(patient, settings):
    throttle_rates(settings, token="2/hour")
    obtain(client_for(), patient.user)
    obtain(client_for(), patient.user)

    refused = obtain(client_for(), patient.user)

    assert refused.status_code == 429
    assert "Too many token requests" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0


def test_a_token_request_for_an_account_under_attack_is_429(patient):
    for n in range(10):
        APIClient(REMOTE_ADDR=f"198.51.100.{n}").post(
            f"{API}/auth/token/", {"username": patient.user.username, "password": "x"}
        )

    refused = obtain(APIClient(REMOTE_ADDR="203.0.113.5"), patient.user)

    assert refused.status_code == 429
    assert "this account" in refused.json()["detail"]


# Hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"treatment": "\\ud800", "location": "x", "start": "2027-03-02T10:00:00-05:00"}',
        '{"treatment": "micro", "location": "x", "start": "2027-03-02T10:00:00-05:00", '
        '"screening": [{"code": "\\udfff", "yes": false}]}',
        b'{"treatment": "\xed\xa0\x80"}',
    ],
    ids=["slug", "nested", "raw-bytes"],
)
def test_a_lone_surrogate_in_a_body_is_400_with_a_reason(clinic, patient, body):
    response = client_for(patient.user).post(
        f"{API}/appointments/", data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "not valid Unicode" in response.json()["detail"]


def test_a_lone_surrogate_in_a_token_request_or_cancel_reason_is_400(clinic, patient, frozen):
    visit = book(clinic, patient, at(NEXT_WEEK, 10), frozen)
    client = client_for(patient.user)

    token = client_for().post(
        f"{API}/auth/token/",
        data='{"username": "\\ud800", "password": "x"}',
        content_type="application/json",
    )
    cancel = client.post(
        f"{API}/appointments/{visit.pk}/cancel/",
        data='{"reason": "ill \\ud800"}',
        content_type="application/json",
    )

    assert (token.status_code, cancel.status_code) == (400, 400)


def test_a_lone_surrogate_in_a_query_parameter_is_400(clinic):
    response = client_for().get(
        f"{API}/availability/",
        QUERY_STRING="treatment=%ED%A0%80&location=%ED%A0%80&start=2027-03-02&end=2027-03-03",
    )

    assert response.status_code == 400
    assert "no treatment" in " ".join(response.json()["treatment"])


def test_json_nested_five_thousand_deep_is_400(clinic, patient):
    deep = "[" * 5000 + "]" * 5000
    shallow_but_deep = '{"treatment": ' + "[" * 40 + "]" * 40 + "}"

    for body in (deep, shallow_but_deep):
        response = client_for(patient.user).post(
            f"{API}/appointments/", data=body, content_type="application/json"
        )
        assert response.status_code == 400
        assert "nested more than" in response.json()["detail"]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_unknown_api_addresses_are_a_json_404_for_every_method(client, method, db):
    response = getattr(Client(enforce_csrf_checks=True), method)(f"{API}/no/such/thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


# Closed days ---------------------------------------------------------------------------------


def test_availability_skips_a_day_the_clinic_is_closed(clinic):
    ClosedDay.objects.create(location=clinic["location"], date=date(2027, 1, 1), name="New Year")
    # Monday 2026-12-28: Thursday the 31st, Friday Jan 1 and Monday Jan 4 are working days.
    with time_machine.travel(datetime(2026, 12, 28, 8, tzinfo=NEW_YORK), tick=False):
        by_provider = free_times(client_for(), clinic, "2026-12-31", "2027-01-04")
        by_time = free_times(client_for(), clinic, "2026-12-31", "2027-01-04", group="time")

    assert by_provider.status_code == by_time.status_code == 200
    days = {s["start"][:10] for s in by_provider.json()["slots"]}
    assert days == {"2026-12-31", "2027-01-04"}
    assert {t["start"][:10] for t in by_time.json()["times"]} == days


def test_booking_a_closed_day_through_the_api_is_refused_with_its_name(clinic, patient):
    ClosedDay.objects.create(
        location=clinic["location"], date=date(2027, 1, 1), name="New Year's Day"
    )
    with time_machine.travel(datetime(2026, 12, 28, 8, tzinfo=NEW_YORK), tick=False):
        response = client_for(patient.user).post(
            f"{API}/appointments/",
            booking_body(clinic, datetime(2027, 1, 1, 10, tzinfo=NEW_YORK)),
            format="json",
        )

    assert response.status_code == 400
    assert response.json()["detail"] == "The clinic is closed that day (New Year's Day)."
    assert not Appointment.objects.exists()
