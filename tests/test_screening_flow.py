"""Safety screening inside the booking flow: not now, consultation first, provider review,
dated answers, and re-confirming before a later session of a course."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.models import Appointment, ScreeningAnswer
from tests.helpers import at, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")

TUESDAY = date(2027, 3, 2)


def start_booking(client, clinic):
    url = reverse("book_times", args=[clinic["treatment"].slug, clinic["location"].slug])
    client.post(url + "?with=any", {"start": at(TUESDAY, 10).isoformat()})


def answers(rules, **overrides):
    data = {f"q_{rule.code}": "no" for rule in rules}
    for code, value in overrides.items():
        data[f"q_{code}"] = "yes" if value is True else "no"
        if isinstance(value, date):
            data[f"q_{code}"] = "yes"
            data[f"when_{code}"] = value.isoformat()
    return data


def test_the_screening_asks_every_question_of_the_treatment(signed_in, clinic, screening_rules):
    start_booking(signed_in, clinic)

    page = signed_in.get(reverse("book_screening")).content.decode()

    for rule in screening_rules:
        assert rule.question in page


def test_an_unanswered_question_is_asked_again(signed_in, clinic, screening_rules):
    start_booking(signed_in, clinic)
    data = answers(screening_rules)
    del data["q_pregnancy"]

    response = signed_in.post(reverse("book_screening"), data)

    assert response.status_code == 200
    assert "Please answer yes or no." in response.content.decode()


def test_active_acne_is_not_now_and_offers_a_consultation(
    signed_in, clinic, screening_rules, consultation
):
    start_booking(signed_in, clinic)

    response = signed_in.post(reverse("book_screening"), answers(screening_rules, active_acne=True))

    assert response["Location"] == reverse("book_not_now")
    page = signed_in.get(reverse("book_not_now")).content.decode()
    assert "Treating over active breakouts can spread inflammation" in page
    assert "Book a consultation" in page
    # Confirming anyway is refused: the review sends the patient back to the explanation.
    assert signed_in.get(reverse("book_review"))["Location"] == reverse("book_not_now")
    signed_in.post(reverse("book_review"), {"choice": "all", "sessions": "3"})
    assert Appointment.objects.count() == 0

    offer = signed_in.post(reverse("book_consultation"))
    assert offer["Location"] == reverse(
        "book_provider", args=[consultation.slug, clinic["location"].slug]
    )


def test_a_consultation_is_booked_as_one(signed_in, patient, clinic, screening_rules, consultation):
    url = reverse("book_times", args=[consultation.slug, clinic["location"].slug]) + "?with=any"
    signed_in.post(url, {"start": at(TUESDAY, 9, 30).isoformat()})
    assert signed_in.get(reverse("book_screening"))["Location"] == reverse("book_review")

    signed_in.post(reverse("book_review"), {"choice": "one"})

    visit = Appointment.objects.get(patient=patient)
    assert (visit.treatment, visit.kind) == (consultation, "consultation")


def test_darker_skin_types_see_a_consultation_first(
    signed_in, clinic, screening_rules, consultation
):
    start_booking(signed_in, clinic)

    response = signed_in.post(
        reverse("book_screening"), answers(screening_rules, fitzpatrick_iv_vi=True)
    )

    assert response["Location"] == reverse("book_consult_first")
    page = signed_in.get(reverse("book_consult_first")).content.decode()
    assert "start with a consultation" in page


def test_a_patient_cleared_after_a_consultation_books_the_course(
    signed_in, patient, clinic, screening_rules
):
    patient.cleared_for_protocols = True
    patient.save()
    start_booking(signed_in, clinic)

    response = signed_in.post(
        reverse("book_screening"), answers(screening_rules, keloid_history=True)
    )

    assert response["Location"] == reverse("book_review")


def test_recent_isotretinoin_books_but_is_flagged_for_review(
    signed_in, patient, clinic, frozen, screening_rules
):
    start_booking(signed_in, clinic)
    three_months_ago = date(2026, 12, 1)

    response = signed_in.post(
        reverse("book_screening"), answers(screening_rules, isotretinoin=three_months_ago)
    )

    assert response["Location"] == reverse("book_review")
    page = signed_in.get(reverse("book_review")).content.decode()
    assert "Your aesthetician will review this with you" in page
    stored = ScreeningAnswer.objects.get(patient=patient, rule__code="isotretinoin")
    assert (stored.yes, stored.last_occurred, stored.answered_at) == (
        True,
        three_months_ago,
        frozen,
    )


def test_isotretinoin_long_ago_is_clear(signed_in, clinic, screening_rules):
    start_booking(signed_in, clinic)

    signed_in.post(
        reverse("book_screening"), answers(screening_rules, isotretinoin=date(2025, 6, 1))
    )

    assert "will review this" not in signed_in.get(reverse("book_review")).content.decode()


def test_a_date_in_the_future_is_refused(signed_in, clinic, screening_rules):
    start_booking(signed_in, clinic)

    response = signed_in.post(
        reverse("book_screening"), answers(screening_rules, isotretinoin=date(2099, 1, 1))
    )

    assert "That date is in the future." in response.content.decode()


def test_a_visitors_answers_are_stored_when_they_confirm(
    client, patient, clinic, frozen, screening_rules
):
    start_booking(client, clinic)
    client.post(reverse("book_screening"), answers(screening_rules))
    assert ScreeningAnswer.objects.count() == 0
    sign_in(client, patient.user)

    client.post(reverse("book_review"), {"choice": "one", "sessions": "3"})

    assert ScreeningAnswer.objects.filter(patient=patient).count() == len(screening_rules)


def test_the_next_session_asks_again_with_the_last_answers_filled_in(
    signed_in, patient, clinic, frozen, screening_rules
):
    start_booking(signed_in, clinic)
    signed_in.post(reverse("book_screening"), answers(screening_rules, keloid_history=False))
    signed_in.post(reverse("book_review"), {"choice": "one", "sessions": "3"})
    plan = patient.plans.get()
    later = at(date(2027, 3, 29), 8)

    with time_machine.travel(later, tick=False):
        sign_in(signed_in, patient.user)
        page = signed_in.get(reverse("plan_next", args=[plan.pk])).content.decode()
        assert "Session 2 of 3" in page
        assert "2027-04-01T10:00:00-04:00" in page  # inside Mar 30 - Apr 13, after DST
        signed_in.post(reverse("plan_next", args=[plan.pk]), {"start": "2027-04-01T10:00:00-04:00"})
        form = signed_in.get(reverse("book_screening"))
        assert "still right today" in form.content.decode()
        assert form.context["form"]["q_keloid_history"].value() == "no"
        signed_in.post(reverse("book_screening"), answers(screening_rules))
        signed_in.post(reverse("book_review"), {"choice": "one"})

    second = plan.appointments.get(session_number=2)
    assert second.start == at(date(2027, 4, 1), 10)
    dated = ScreeningAnswer.objects.filter(patient=patient, rule__code="keloid_history")
    assert sorted(a.answered_at for a in dated) == [frozen, later]


def test_a_later_session_outside_its_window_is_refused(
    signed_in, patient, clinic, frozen, screening_rules
):
    first = services.start_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=frozen,
        staff=True,
    )
    too_soon = at(TUESDAY + timedelta(days=14), 10)

    signed_in.post(reverse("plan_next", args=[first.plan.pk]), {"start": too_soon.isoformat()})
    signed_in.post(reverse("book_screening"), answers(screening_rules))
    response = signed_in.post(reverse("book_review"), {"choice": "one"})

    assert "Session 2 must be between Mar 30 and Apr 13, 2027" in response.content.decode()
    assert first.plan.appointments.count() == 1
