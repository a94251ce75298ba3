"""A course booked in about a minute: a new patient types their details on the review page and
the booking is made at once (the email then confirms the address); an address that already has
an account gets a one-time code instead, and nothing is booked into it until the code is typed;
the draft follows its link to another browser."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from booking import services
from booking.models import Appointment, Hold, Patient, TreatmentPlan
from tests import factories
from tests.helpers import at

pytestmark = pytest.mark.usefixtures("isolated_cache")

TUESDAY = date(2027, 3, 2)
DETAILS = {
    "first_name": "Maya",
    "last_name": "Okafor",
    "email": "Maya@Example.com",
    "phone": "+1 404 555 0123",
    "date_of_birth": "1991-04-12",
    "email_consent": "on",
}


def times_url(clinic):
    return (
        reverse("book_times", args=[clinic["treatment"].slug, clinic["location"].slug])
        + "?with=any"
    )


def up_to_review(client, clinic, rules):
    client.post(times_url(clinic), {"start": at(TUESDAY, 10).isoformat()})
    client.post(reverse("book_screening"), {f"q_{rule.code}": "no" for rule in rules})


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def code_in(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_a_new_patient_books_a_course_with_details_inline_and_confirms_by_email(
    client, clinic, frozen, screening_rules
):
    up_to_review(client, clinic, screening_rules)
    review = client.get(reverse("book_review") + "?sessions=4").content.decode()
    assert clinic["provider"].display_name in review  # who, although "first available"
    assert "$1,400.00" in review  # 4 x $350.00
    assert "Nothing today: you pay at the clinic" in review

    done = client.post(reverse("book_review"), {**DETAILS, "choice": "all", "sessions": "4"})

    patient = Patient.objects.get(email="maya@example.com")
    plan = TreatmentPlan.objects.get(patient=patient)
    assert plan.appointments.count() == 4
    assert not patient.user.is_active  # waits for the link, but the booking is made
    assert not Hold.objects.exists()
    page = client.get(done["Location"]).content.decode()
    assert "You're booked!" in page and "Session 4 of 4" in page
    assert "We've emailed maya@example.com" in page
    (welcome,) = mail.outbox
    assert welcome.to == ["maya@example.com"] and "Your visit is booked" in welcome.body

    confirmed = client.post(link_in(welcome), {"new_password1": "", "new_password2": ""})
    assert confirmed["Location"] == reverse("my_appointments")
    patient.user.refresh_from_db()
    assert patient.user.is_active
    assert "Microneedling" in client.get(reverse("my_appointments")).content.decode()


def test_bad_details_are_explained_and_nothing_is_booked(client, clinic, frozen, screening_rules):
    up_to_review(client, clinic, screening_rules)

    page = client.post(
        reverse("book_review"), {**DETAILS, "email": "not an email", "choice": "one"}
    )

    assert page.status_code == 200
    assert "Please check your details below." in page.content.decode()
    assert "Enter a valid email address." in page.content.decode()
    assert Appointment.objects.count() == 0
    assert not Patient.objects.filter(first_name="Maya").exists()


def test_an_email_with_an_account_gets_a_code_and_nothing_is_booked_into_it(
    client, clinic, frozen, screening_rules
):
    owner = factories.PatientFactory(email="maya@example.com")
    owner.user.email = owner.user.username = "maya@example.com"
    owner.user.save()
    up_to_review(client, clinic, screening_rules)

    response = client.post(reverse("book_review"), {**DETAILS, "choice": "one"})

    assert response["Location"] == reverse("book_account")
    assert Appointment.objects.count() == 0
    assert Patient.objects.filter(email__iexact="maya@example.com").count() == 1
    (note,) = mail.outbox
    assert note.to == ["maya@example.com"]
    page = client.get(reverse("book_account")).content.decode()
    assert "If maya@example.com has an account with us" in page

    wrong = client.post(reverse("book_account"), {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    right = client.post(reverse("book_account"), {"code": code_in(note)})
    assert right["Location"] == reverse("book_review")
    client.post(reverse("book_review"), {"choice": "one", "sessions": "3"})
    assert Appointment.objects.get().patient == owner


def test_a_code_dies_after_five_wrong_tries(client, clinic, frozen, screening_rules, patient):
    up_to_review(client, clinic, screening_rules)
    client.post(reverse("book_account"), {"email": patient.user.email})
    code = code_in(mail.outbox[0])

    for _ in range(5):
        client.post(reverse("book_account"), {"code": "999999" if code != "999999" else "1"})

    refused = client.post(reverse("book_account"), {"code": code})
    assert "That code is not right" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unknown_email_asking_for_a_code_reads_the_same_and_sends_nothing(
    client, clinic, frozen, screening_rules
):
    up_to_review(client, clinic, screening_rules)

    client.post(reverse("book_account"), {"email": "nobody@example.com"})

    page = client.get(reverse("book_account")).content.decode()
    assert "If nobody@example.com has an account with us" in page
    assert mail.outbox == []


def test_staff_accounts_never_get_a_sign_in_code(client, clinic, frozen, screening_rules):
    factories.UserFactory(
        username="desk@example.com", email="desk@example.com", groups=["Front desk"]
    )
    up_to_review(client, clinic, screening_rules)

    client.post(reverse("book_account"), {"email": "desk@example.com"})

    assert mail.outbox == []


def test_the_draft_continues_in_another_browser(client, clinic, frozen, screening_rules):
    up_to_review(client, clinic, screening_rules)
    page = client.get(reverse("book_review")).content.decode()
    link = re.search(r'value="(http://testserver/book/continue/[^"]+)"', page).group(1)

    other = Client()  # e.g. the mail app's own browser
    resumed = other.get(link)

    assert resumed["Location"] == reverse("book_review")
    review = other.get(reverse("book_review")).content.decode()
    assert "Tuesday, March 2, 2027 at 10:00 AM" in review
    assert Hold.objects.count() == 1  # still one hold, kept for the same draft
    assert other.get("/book/continue/not-a-token/")["Location"] == reverse("book_start")


def test_a_refused_first_confirm_does_not_make_a_second_account(
    client, clinic, frozen, screening_rules
):
    up_to_review(client, clinic, screening_rules)
    later = frozen + timedelta(minutes=services.HOLD_MINUTES)
    with time_machine.travel(later, tick=False):
        services.book_appointment(  # the hold ran out and the desk booked 10:00
            patient=factories.PatientFactory(),
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=at(TUESDAY, 10),
            now=later,
            staff=True,
        )
        taken = client.post(reverse("book_review"), {**DETAILS, "choice": "one"})
        assert taken.status_code == 409
        client.post(reverse("book_review"), {"start": at(TUESDAY, 13).isoformat()})
        page = client.get(reverse("book_review")).content.decode()
        assert 'value="Maya"' in page  # the details are kept
        booked = client.post(reverse("book_review"), {**DETAILS, "choice": "one"})

    assert booked.status_code == 302
    assert User.objects.filter(email="maya@example.com").count() == 1
    assert Appointment.objects.get(patient__email="maya@example.com").start == at(TUESDAY, 13)


def test_a_returning_patient_signs_in_with_an_emailed_code_and_no_password(client, patient):
    page = client.get(reverse("login")).content.decode()
    assert reverse("code_sign_in") in page

    client.post(reverse("code_sign_in"), {"email": patient.user.email.upper()})
    (message,) = mail.outbox
    assert message.to == [patient.user.email]
    signed_in = client.post(reverse("code_sign_in"), {"code": code_in(message)})

    assert signed_in["Location"] == reverse("my_appointments")
    assert client.get(reverse("my_appointments")).status_code == 200
    reused = client.post(reverse("code_sign_in"), {"code": code_in(message)})
    assert reused.status_code == 400  # a code works once


def test_a_patient_who_takes_texts_may_get_the_code_by_sms(client, settings, db):
    from notifications.sms import MemorySMSBackend

    settings.SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    MemorySMSBackend.outbox.clear()
    texts = factories.PatientFactory(sms_consent=True, phone="+14045550123")
    silent = factories.PatientFactory(sms_consent=False, phone="+14045550199")

    client.post(reverse("code_sign_in"), {"email": silent.user.email, "sms": "1"})
    assert [m.to for m in mail.outbox] == [[silent.user.email]]  # no consent: email instead
    client.post(reverse("code_sign_in"), {"email": texts.user.email, "sms": "1"})

    (text,) = MemorySMSBackend.outbox
    assert text.to == "+14045550123" and "Microneedling" not in text.body
    code = re.search(r"\d{6}", text.body).group(0)
    assert client.post(reverse("code_sign_in"), {"code": code}).status_code == 302


def test_a_continue_link_never_shows_the_details_typed_in_another_browser(
    client, clinic, frozen, screening_rules
):
    up_to_review(client, clinic, screening_rules)
    later = frozen + timedelta(minutes=services.HOLD_MINUTES)
    with time_machine.travel(later, tick=False):
        services.book_appointment(  # 10:00 goes, so the first confirm is refused
            patient=factories.PatientFactory(),
            treatment=clinic["treatment"],
            location=clinic["location"],
            start=at(TUESDAY, 10),
            now=later,
            staff=True,
        )
        client.post(reverse("book_review"), {**DETAILS, "choice": "one"})
        page = client.get(reverse("book_review")).content.decode()
        link = re.search(r'value="(http://testserver/book/continue/[^"]+)"', page).group(1)
        other = Client()
        other.get(link)
        elsewhere = other.get(reverse("book_review")).content.decode()

    assert "1991-04-12" in page
    assert "Okafor" not in elsewhere and "1991-04-12" not in elsewhere


def test_going_back_to_the_treatments_gives_the_held_time_back(
    client, clinic, frozen, screening_rules
):
    up_to_review(client, clinic, screening_rules)
    assert Hold.objects.count() == 1

    client.get(reverse("book_start"))

    assert not Hold.objects.exists()
