"""The online booking flow under /book/: times, review, whole courses, taken meanwhile."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from booking import services
from booking.models import (
    Appointment,
    BookingDraft,
    ClosedDay,
    Hold,
    ScreeningAnswer,
    TreatmentPlan,
)
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")

TUESDAY = date(2027, 3, 2)


def times_url(clinic, **query):
    url = reverse("book_times", args=[clinic["treatment"].slug, clinic["location"].slug])
    return url + "?" + "&".join(f"{k}={v}" for k, v in {"with": "any", **query}.items())


def choose(client, clinic, start: datetime, **kwargs):
    return client.post(times_url(clinic), {"start": start.isoformat()}, **kwargs)


def draft_of(client) -> dict:
    return BookingDraft.objects.get(pk=client.session["booking_draft"]).data


def answer_all_no(client, rules):
    return client.post(reverse("book_screening"), {f"q_{rule.code}": "no" for rule in rules})


def test_the_week_lists_free_times_in_the_clinics_time_zone(client, clinic, frozen):
    response = client.get(times_url(clinic))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Tuesday, March 2" in page
    assert 'value="2027-03-02T10:00:00-05:00"' in page
    # 09:00 Monday is inside the two hours' notice; 10:15 is the first free time that day.
    assert "2027-03-01T09:00:00-05:00" not in page
    assert "2027-03-01T10:15:00-05:00" in page


def test_htmx_gets_only_the_week_and_later_weeks_have_links(client, clinic, frozen):
    response = client.get(times_url(clinic, week="2027-03-08"), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="week"')
    assert "<html" not in page
    assert "week=2027-03-01" in page  # earlier
    assert "week=2027-03-15" in page  # later


def test_a_week_in_the_past_shows_from_today(client, clinic, frozen):
    response = client.get(times_url(clinic, week="2020-01-01"))

    assert response.status_code == 200
    assert "From Mon, Mar 1" in response.content.decode()


def test_first_available_shows_each_time_once_and_books_whoever_is_free_then(
    signed_in, patient, clinic, frozen, screening_rules
):
    second = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    factories.RoomFactory(location=clinic["location"], treatments=[clinic["treatment"]])
    services.book_appointment(
        patient=factories.PatientFactory(),
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=clinic["provider"],
        start=at(TUESDAY, 10),
        now=frozen,
        staff=True,  # someone else, booked by the desk
    )

    page = signed_in.get(times_url(clinic, week="2027-03-02")).content.decode()

    # Both are free at 09:00 and only the second at 10:00: each time is offered once.
    assert page.count('value="2027-03-02T09:00:00-05:00"') == 1
    assert page.count('value="2027-03-02T10:00:00-05:00"') == 1
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)
    signed_in.post(reverse("book_review"), {"choice": "one", "sessions": "3"})
    visit = Appointment.objects.get(patient=patient)
    assert (visit.start, visit.provider) == (at(TUESDAY, 10), second)


def test_choosing_a_time_holds_it_in_a_draft_and_books_nothing(
    signed_in, clinic, frozen, screening_rules
):
    response = choose(signed_in, clinic, at(TUESDAY, 10))

    assert response.status_code == 302
    assert response["Location"] == reverse("book_screening")
    assert draft_of(signed_in)["start"] == "2027-03-02T10:00:00-05:00"
    assert Hold.objects.get().start == at(TUESDAY, 10)
    assert Appointment.objects.count() == 0


def test_a_time_someone_else_holds_is_refused_at_the_times_step(
    signed_in, clinic, frozen, screening_rules
):
    choose(Client(), clinic, at(TUESDAY, 10))  # a visitor holds 10:00

    response = choose(signed_in, clinic, at(TUESDAY, 10), follow=True)

    assert "That time is already taken" in response.content.decode()
    assert Hold.objects.count() == 1


def test_an_unreadable_time_is_a_message_not_an_error(signed_in, clinic, frozen):
    response = signed_in.post(times_url(clinic), {"start": "next tuesday"}, follow=True)

    assert response.status_code == 200
    assert "Please pick one of the times shown" in response.content.decode()


def test_a_patient_books_a_whole_course_of_four(
    signed_in, patient, clinic, frozen, screening_rules
):
    choose(signed_in, clinic, at(TUESDAY, 10))
    assert answer_all_no(signed_in, screening_rules)["Location"] == reverse("book_review")

    review = signed_in.get(reverse("book_review") + "?sessions=4")
    page = review.content.decode()
    assert "Book all 4 sessions now" in page
    assert "Between Mar 30 and Apr 13, 2027" in page  # session 2's window
    assert "3 to 5 sessions, 4 to 6 weeks apart" in page

    response = signed_in.post(reverse("book_review"), {"choice": "all", "sessions": "4"})

    plan = TreatmentPlan.objects.get(patient=patient)
    visits = list(plan.appointments.order_by("start"))
    assert plan.sessions == 4
    assert [v.session_number for v in visits] == [1, 2, 3, 4]
    assert visits[0].start == at(TUESDAY, 10)
    assert response["Location"] == reverse("book_done", args=[visits[0].pk])
    assert "booking_draft" not in signed_in.session
    assert not Hold.objects.exists()
    answers = ScreeningAnswer.objects.filter(patient=patient)
    assert answers.count() == len(screening_rules)
    assert {a.answered_at for a in answers} == {frozen}

    done = signed_in.get(response["Location"])
    assert "Session 4 of 4" in done.content.decode()
    assert "Add all sessions to my calendar" in done.content.decode()


def test_the_number_of_sessions_stays_within_the_protocol(
    signed_in, clinic, frozen, screening_rules
):
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)

    page = signed_in.get(reverse("book_review") + "?sessions=9").content.decode()

    assert "Book all 5 sessions now" in page


def test_book_this_session_only_starts_the_course_with_one_visit(
    signed_in, patient, clinic, frozen, screening_rules
):
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)

    signed_in.post(reverse("book_review"), {"choice": "one", "sessions": "4"})

    plan = TreatmentPlan.objects.get(patient=patient)
    assert plan.sessions == 4
    assert plan.provider == clinic["provider"]
    assert [(a.session_number, a.kind) for a in plan.appointments.all()] == [(1, "initial")]


def test_a_treatment_without_a_course_books_one_visit(signed_in, patient, clinic, frozen):
    peel = factories.TreatmentFactory(name="Peel", numbing_minutes=0, cleanup_minutes=0)
    clinic["room"].treatments.add(peel)
    clinic["provider"].treatments.add(peel)
    url = reverse("book_times", args=[peel.slug, clinic["location"].slug]) + "?with=any"
    signed_in.post(url, {"start": at(TUESDAY, 11).isoformat()})
    assert signed_in.get(reverse("book_screening"))["Location"] == reverse("book_review")

    page = signed_in.get(reverse("book_review")).content.decode()
    assert "Confirm booking" in page
    signed_in.post(reverse("book_review"), {"choice": "one"})

    visit = Appointment.objects.get(patient=patient)
    assert (visit.treatment, visit.kind, visit.plan) == (peel, "single", None)


def test_a_time_taken_meanwhile_offers_nearby_times_and_keeps_the_choices(
    signed_in, clinic, frozen, screening_rules
):
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)
    signed_in.get(reverse("book_review") + "?sessions=4")
    desk = {
        "patient": factories.PatientFactory(),
        "treatment": clinic["treatment"],
        "location": clinic["location"],
        "start": at(TUESDAY, 10),
        "staff": True,  # someone else, booked by the desk
    }
    with pytest.raises(services.SlotTaken):  # held for the patient
        services.book_appointment(now=frozen, **desk)
    later = frozen + timedelta(minutes=services.HOLD_MINUTES)
    with time_machine.travel(later, tick=False):
        services.book_appointment(now=later, **desk)  # the hold ran out

        response = signed_in.post(reverse("book_review"), {"choice": "all", "sessions": "4"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "That time was just taken" in page
    assert 'value="2027-03-02T11:45:00-05:00"' in page  # the next free time that morning
    draft = draft_of(signed_in)
    assert draft["sessions"] == 4 and draft["answers"]

    picked = signed_in.post(reverse("book_review"), {"start": "2027-03-02T11:45:00-05:00"})
    assert picked.status_code == 302
    again = signed_in.get(picked["Location"])
    assert "Book all 4 sessions now" in again.content.decode()


def test_a_taken_time_is_caught_before_confirming_too(signed_in, clinic, frozen, screening_rules):
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)
    later = frozen + timedelta(minutes=services.HOLD_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        services.book_appointment(
            patient=factories.PatientFactory(),
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=at(TUESDAY, 10, 30),
            now=later,
            staff=True,  # someone else, booked by the desk once the hold ran out
        )

        response = signed_in.get(reverse("book_review"))

    assert response.status_code == 409
    assert "That time was just taken" in response.content.decode()


def test_a_visitor_gives_details_on_the_review_page_after_the_health_questions(
    client, clinic, frozen, screening_rules
):
    choose(client, clinic, at(TUESDAY, 10))

    response = answer_all_no(client, screening_rules)

    assert response["Location"] == reverse("book_review")
    page = client.get(reverse("book_review")).content.decode()
    assert "I'm new here" in page and 'name="date_of_birth"' in page
    assert 'type="password"' not in page and "autofocus" not in page
    assert page.index("I'm new here") < page.index("Sign in with a code")


def test_the_review_asks_for_answers_first(signed_in, clinic, frozen, screening_rules):
    choose(signed_in, clinic, at(TUESDAY, 10))

    response = signed_in.get(reverse("book_review"))

    assert response["Location"] == reverse("book_screening")


def test_yesterdays_answers_are_asked_again(signed_in, clinic, frozen, screening_rules):
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)

    with time_machine.travel(at(date(2027, 3, 2), 8), tick=False):
        response = signed_in.get(reverse("book_review"))

    assert response["Location"] == reverse("book_screening")


def test_without_a_draft_the_flow_starts_over(signed_in, frozen):
    response = signed_in.get(reverse("book_review"))

    assert response["Location"] == reverse("book_start")


def test_booking_confirmations_are_rate_limited_per_ip(
    signed_in, clinic, frozen, screening_rules, settings
):
    settings.RATE_LIMITS = {"booking": (2, 3600)}
    choose(signed_in, clinic, at(TUESDAY, 10))
    answer_all_no(signed_in, screening_rules)
    signed_in.post(reverse("book_review"), {"choice": "one", "sessions": "3"})
    choose(signed_in, clinic, at(TUESDAY, 14))
    answer_all_no(signed_in, screening_rules)
    signed_in.post(reverse("book_review"), {"choice": "one", "sessions": "3"})
    choose(signed_in, clinic, at(TUESDAY, 15))
    answer_all_no(signed_in, screening_rules)

    response = signed_in.post(reverse("book_review"), {"choice": "one", "sessions": "3"})

    assert response.status_code == 429
    assert "Please wait a moment" in response.content.decode()
    assert Appointment.objects.count() == 2


def test_confirming_needs_the_csrf_token(patient, clinic, frozen, screening_rules):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, patient.user)
    page = browser.get(times_url(clinic))
    token = page.cookies["csrftoken"].value
    browser.post(times_url(clinic), {"start": at(TUESDAY, 10).isoformat()}, HTTP_X_CSRFTOKEN=token)
    browser.post(
        reverse("book_screening"),
        {f"q_{rule.code}": "no" for rule in screening_rules},
        HTTP_X_CSRFTOKEN=token,
    )

    forged = browser.post(reverse("book_review"), {"choice": "all", "sessions": "3"})

    assert forged.status_code == 403
    assert Appointment.objects.count() == 0
    real = browser.post(
        reverse("book_review"), {"choice": "all", "sessions": "3"}, HTTP_X_CSRFTOKEN=token
    )
    assert real.status_code == 302
    assert Appointment.objects.count() == 3


def test_an_evening_booking_without_questions_uses_the_clinics_date(client, patient, clinic):
    peel = factories.TreatmentFactory(name="Peel", numbing_minutes=0, cleanup_minutes=0)
    clinic["room"].treatments.add(peel)
    clinic["provider"].treatments.add(peel)
    evening = at(date(2027, 3, 1), 21)  # already March 2 in UTC
    with time_machine.travel(evening, tick=False):
        sign_in(client, patient.user)
        url = reverse("book_times", args=[peel.slug, clinic["location"].slug]) + "?with=any"
        client.post(url, {"start": at(TUESDAY, 11).isoformat()})

        assert client.get(reverse("book_screening"))["Location"] == reverse("book_review")
        assert client.get(reverse("book_review")).status_code == 200


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (at(TUESDAY, 20), "outside the aesthetician&#x27;s working hours"),
        (at(TUESDAY, 10, 7), "Visits start every 15 minutes"),
        (at(date(2027, 3, 1), 7), "That time has already passed"),
    ],
)
def test_a_time_never_offered_says_why_instead_of_just_taken(
    signed_in, clinic, frozen, screening_rules, start, reason
):
    page = choose(signed_in, clinic, start, follow=True).content.decode()

    assert "That time was just taken" not in page
    assert reason in page
    assert not Hold.objects.exists()


def test_the_time_picker_does_not_offer_a_closed_day_and_choosing_it_says_why(
    signed_in, clinic, screening_rules
):
    ClosedDay.objects.create(
        location=clinic["location"], date=date(2027, 1, 1), name="New Year's Day"
    )
    with time_machine.travel(datetime(2026, 12, 28, 8, tzinfo=NEW_YORK), tick=False):
        page = signed_in.get(times_url(clinic, week="2026-12-28")).content.decode()
        refused = choose(signed_in, clinic, datetime(2027, 1, 1, 10, tzinfo=NEW_YORK), follow=True)

    assert 'value="2026-12-31T10:00:00-05:00"' in page
    assert 'value="2027-01-01T' not in page
    # A time typed in by hand is refused with the reason, and nothing is held.
    assert "The clinic is closed that day (New Year&#x27;s Day)." in refused.content.decode()
    assert not Hold.objects.exists()
    assert Appointment.objects.count() == 0
