"""Pages with health data (screening answers, charts, patient records, the day sheet, a
patient's visits and courses) and the report CSV tell browsers and proxies to keep no copy;
the desk's screening fragment is POSTed, so no patient details end up in a URL (issue 12,
item 8)."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from booking import services
from tests.helpers import at, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")
TUESDAY = date(2027, 3, 2)


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def visit(clinic, patient, now):
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(TUESDAY, 10),
        now=now,
        provider=clinic["provider"],
        staff=True,
    )


@pytest.fixture
def staff_client(client, front_desk, frozen):
    sign_in(client, front_desk)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "desk:patient",
        "desk:patient_edit",
        "desk:appointment",
        "desk:plan_new",
        "staff_reports_csv",
    ],
)
def test_front_desk_pages_with_health_data_are_not_cached(staff_client, visit, name):
    args = {
        "desk:patient": [visit.patient_id],
        "desk:patient_edit": [visit.patient_id],
        "desk:appointment": [visit.pk],
        "desk:plan_new": [visit.patient_id],
    }.get(name, [])

    response = staff_client.get(reverse(name, args=args))

    assert response.status_code == 200
    assert no_store(response)


def test_a_plan_page_is_not_cached(staff_client, clinic, patient, now):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
        staff=True,
    )

    assert no_store(staff_client.get(reverse("desk:plan", args=[plan.pk])))
    assert no_store(staff_client.get(reverse("desk:plans_overdue")))


def test_the_screening_fragment_is_posted_and_not_cached(staff_client, visit, clinic):
    fields = {"patient": visit.patient_id, "treatment": clinic["treatment"].pk}

    refused = staff_client.get(reverse("desk:book_screening"), fields)
    response = staff_client.post(reverse("desk:book_screening"), fields)

    assert refused.status_code == 405
    assert response.status_code == 200
    assert no_store(response)


def test_the_booking_page_posts_only_three_fields_for_the_screening(staff_client, clinic):
    page = staff_client.get(reverse("desk:book")).content.decode()

    assert 'hx-post="/staff/book/screening/"' in page
    assert 'hx-params="patient,treatment,location"' in page
    assert 'hx-get="/staff/book/screening/"' not in page


def test_the_aesthetician_pages_are_not_cached(client, clinic, visit):
    with time_machine.travel(at(TUESDAY, 11), tick=False):
        sign_in(client, clinic["provider"].user)
        day = client.get(reverse("my_day"))
        chart = client.get(reverse("visit_chart", args=[visit.pk]))

    assert day.status_code == chart.status_code == 200
    assert no_store(day) and no_store(chart)


@pytest.mark.parametrize(
    "name", ["my_appointments", "my_details", "visit_detail", "visit_ics", "visit_reschedule"]
)
def test_a_patients_own_pages_are_not_cached(signed_in, visit, name):
    args = [visit.pk] if name.startswith("visit") else []

    response = signed_in.get(reverse(name, args=args))

    assert response.status_code == 200
    assert no_store(response)


def test_the_online_screening_is_not_cached(signed_in, clinic, screening_rules):
    signed_in.post(
        reverse("book_times", args=[clinic["treatment"].slug, clinic["location"].slug])
        + "?with=any",
        {"start": at(TUESDAY, 10).isoformat()},
    )

    response = signed_in.get(reverse("book_screening"))

    assert response.status_code == 200
    assert no_store(response)
