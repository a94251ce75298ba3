"""The aesthetician's day sheet: their visits in order with what they need between patients."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.templatetags.static import static
from django.urls import reverse

from booking import services
from booking.models import ScreeningAnswer, TreatmentPlan
from booking.services import cancel_appointment
from charts.day import age_on
from tests import factories
from tests.helpers import sign_in
from tests.test_chart import at, book_visit, chart
from treatments.models import ScreeningRule

MONDAY = date(2027, 3, 1)


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    """Sessions made at the real time must still be valid at the frozen 2027 times."""
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def aesthetician_client(client, clinic):
    sign_in(client, clinic["provider"].user)
    return client


@pytest.fixture
def frozen():
    with time_machine.travel(at(MONDAY, 8), tick=False):
        yield


def test_it_lists_my_visits_in_time_order_with_numbing_and_treatment_times(
    aesthetician_client, clinic, frozen
):
    late = book_visit(clinic, factories.PatientFactory(first_name="Zoe", user=None), at(MONDAY, 14))
    early = factories.PatientFactory(first_name="Ada", last_name="Byron", user=None)
    early.date_of_birth = date(1990, 3, 2)
    early.save()
    book_visit(clinic, early, at(MONDAY, 9))

    response = aesthetician_client.get(reverse("my_day"))

    text = response.text
    assert response.status_code == 200
    assert text.index("Ada Byron") < text.index("Zoe")
    assert "36 y" in text  # turns 37 the next day
    assert "Numbing from 09:00" in text
    assert "Treatment from 09:30" in text
    assert "Single visit" in text
    assert f'id="visit-{late.pk}"' in text
    assert static("css/print.css") in text


def test_age_counts_whole_years_up_to_the_day(patient):
    patient.date_of_birth = date(2000, 2, 29)

    assert age_on(patient, date(2027, 2, 28)) == 26
    assert age_on(patient, date(2027, 3, 1)) == 27


def test_it_shows_session_k_of_n_and_the_previous_sessions_depths_and_notes(
    aesthetician_client, clinic, patient
):
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 1, 25),
    )
    first = book_visit(clinic, patient, at(date(2027, 1, 25), 10), plan=plan, session_number=1)
    chart(first, at(date(2027, 1, 25), 12), forehead=1.0, cheeks=1.5)
    first.charts.update(notes="Mild erythema on the left cheek")
    book_visit(clinic, patient, at(MONDAY, 10), plan=plan, session_number=2)

    with time_machine.travel(at(MONDAY, 8), tick=False):
        response = aesthetician_client.get(reverse("my_day"))

    assert "Session 2 of 3" in response.text
    assert "Jan 25, 2027:" in response.text
    assert "Forehead 1 mm, Cheeks 1.5 mm" in response.text
    assert "Mild erythema on the left cheek" in response.text


def test_it_flags_screening_for_provider_review_and_answers_to_reconfirm(
    aesthetician_client, clinic, patient, frozen
):
    isotretinoin = ScreeningRule.objects.create(
        code="isotretinoin",
        question="Have you taken isotretinoin in the last 6 months?",
        outcome="provider_review",
        lookback_days=183,
    )
    isotretinoin.treatments.add(clinic["treatment"])
    ScreeningAnswer.objects.create(
        patient=patient,
        rule=isotretinoin,
        yes=True,
        last_occurred=date(2026, 12, 1),
        answered_at=at(date(2027, 2, 20), 9),
    )
    book_visit(clinic, patient, at(MONDAY, 10))

    response = aesthetician_client.get(reverse("my_day"))

    assert "Bookable, flagged for review:" in response.text
    assert "isotretinoin in the last 6 months? (last Dec 1, 2026)" in response.text
    assert "Re-confirm screening answers (last Feb 20)" in response.text


def test_today_is_the_locations_date_not_utcs(aesthetician_client, clinic, patient):
    book_visit(clinic, patient, at(MONDAY, 15))

    # 03:00 UTC on Tuesday is still Monday evening in New York.
    with time_machine.travel(datetime(2027, 3, 2, 3, 0, tzinfo=UTC)):
        response = aesthetician_client.get(reverse("my_day"))

    assert "Monday, March 1, 2027" in response.text
    assert patient.full_name in response.text


def test_a_date_can_be_chosen_and_cancelled_visits_are_left_out(
    aesthetician_client, clinic, patient, frozen
):
    tuesday = MONDAY + timedelta(days=1)
    kept = book_visit(clinic, patient, at(tuesday, 10))
    gone = book_visit(
        clinic, factories.PatientFactory(first_name="Gone", user=None), at(tuesday, 14)
    )
    cancel_appointment(appointment=gone, now=at(MONDAY, 8), staff=True)

    response = aesthetician_client.get(reverse("my_day"), {"date": "2027-03-02"})

    assert f'id="visit-{kept.pk}"' in response.text
    assert f'id="visit-{gone.pk}"' not in response.text


def test_a_date_that_is_not_a_date_shows_today_with_a_note(aesthetician_client, clinic, frozen):
    response = aesthetician_client.get(reverse("my_day"), {"date": "2027-02-30"})

    assert response.status_code == 200
    assert "That is not a date we can show" in response.text
    assert "Monday, March 1, 2027" in response.text


def test_an_aesthetician_cannot_open_another_aestheticians_day(aesthetician_client, clinic):
    other = factories.ProviderFactory(locations=[clinic["location"]])

    response = aesthetician_client.get(reverse("my_day"), {"provider": other.pk})

    assert response.status_code == 403


def test_the_front_desk_can_open_any_aestheticians_day(client, clinic, patient, front_desk, frozen):
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    book_visit(clinic, patient, at(MONDAY, 10), provider=other)
    sign_in(client, front_desk)

    response = client.get(reverse("my_day"), {"provider": other.pk})

    assert response.status_code == 200
    assert f"{other.display_name}'s day" in response.text
    assert patient.full_name in response.text
    assert "Chart this visit" not in response.text


def test_chart_this_visit_is_offered_only_once_the_visit_has_started(
    aesthetician_client, clinic, patient
):
    checked_in = book_visit(clinic, patient, at(MONDAY, 10))
    waiting = book_visit(clinic, factories.PatientFactory(user=None), at(MONDAY, 13))
    cancel_me = book_visit(clinic, factories.PatientFactory(user=None), at(MONDAY, 15))
    services.change_status(appointment=checked_in, status="checked_in", now=at(MONDAY, 9, 20))
    services.change_status(appointment=cancel_me, status="no_show", now=at(MONDAY, 15, 30))

    def chart_links(hour: int, minute: int = 0) -> set[int]:
        with time_machine.travel(at(MONDAY, hour, minute), tick=False):
            text = aesthetician_client.get(reverse("my_day")).text
        return {
            visit.pk
            for visit in (checked_in, waiting, cancel_me)
            if f'href="{reverse("visit_chart", args=[visit.pk])}">Chart this visit' in text
        }

    assert chart_links(9, 30) == {checked_in.pk}
    assert chart_links(13, 0) == {checked_in.pk, waiting.pk}
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        text = aesthetician_client.get(reverse("my_day")).text
    assert "Charting opens at check-in or at 13:00" in text


def _busy_day(clinic, count: int) -> None:
    """`count` short visits on Monday, each patient with a charted earlier session and a
    screening answer, so that every per-visit lookup has something to find."""
    check = factories.TreatmentFactory(
        name="Skin check", duration_minutes=15, numbing_minutes=0, cleanup_minutes=0
    )
    clinic["provider"].treatments.add(check)
    clinic["room"].treatments.add(check)
    quick = {**clinic, "treatment": check}
    rule = ScreeningRule.objects.create(code="acne", question="Acne?", outcome="not_now")
    rule.treatments.add(check)
    for n in range(count):
        patient = factories.PatientFactory(user=None, first_name=f"P{n}")
        ScreeningAnswer.objects.create(patient=patient, rule=rule, yes=False)
        week_before = MONDAY - timedelta(days=7 * (n + 1))
        chart(book_visit(quick, patient, at(week_before, 10)), at(week_before, 12))
        book_visit(quick, patient, at(MONDAY, 9) + timedelta(minutes=20 * n))


@pytest.mark.parametrize("count", [2, 10])
def test_the_day_sheet_takes_the_same_number_of_queries_for_2_or_10_visits(
    aesthetician_client, clinic, django_assert_num_queries, count
):
    _busy_day(clinic, count)

    # django-otp loads the device that verified the session: one query of the fourteen; the
    # calendar feed panel one more, the consent forms in force one more (their signatures
    # another, when a form exists).
    with (
        time_machine.travel(at(MONDAY, 8), tick=False),
        django_assert_num_queries(14),
    ):
        response = aesthetician_client.get(reverse("my_day"))

    assert response.text.count('class="card mb-3 visit') == count
