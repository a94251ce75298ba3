"""Patient search, records and edits at the front desk; plans and the plans-due list."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from booking import services
from booking.models import AuditEntry, Patient, TreatmentPlan
from desk.views.patients import search_patients
from tests import factories
from tests.helpers import NEW_YORK, at, sign_in

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)
TUESDAY = date(2027, 3, 2)


@pytest.fixture
def desk(client, front_desk):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, front_desk)
        yield client


@pytest.fixture
def people(db):
    return [
        Patient.objects.create(
            first_name="Maria",
            last_name="Lopez",
            phone="+1 404 555 0101",
            email="maria@example.com",
        ),
        Patient.objects.create(
            first_name="Mario", last_name="Rossi", phone="+1 678 555 0102", email="mr@example.org"
        ),
        Patient.objects.create(
            first_name="Anne", last_name="Marlow", phone="+1 404 555 0103", email="anne@example.com"
        ),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lopez", ["Maria"]),
        ("mari", ["Maria", "Mario"]),
        ("maria lopez", ["Maria"]),
        ("678", ["Mario"]),
        ("(404) 555-0103", ["Anne"]),
        ("example.org", ["Mario"]),
        ("MARLOW", ["Anne"]),
        ("nobody", []),
    ],
)
def test_search_finds_patients_by_any_part_of_name_phone_or_email(people, query, expected):
    assert sorted(p.first_name for p in search_patients(query)) == expected


def test_search_page_lists_matches(desk, people):
    response = desk.get(reverse("desk:patients"), {"q": "lopez"})

    assert "Maria Lopez" in response.content.decode()
    assert "Mario Rossi" not in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_search_can_use_the_trigram_index(people):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = search_patients("maria lopez").explain()
        finally:
            cursor.execute("SET enable_seqscan = on")

    # One scan of one index over name, email and phone together serves every word (0009).
    assert plan.count("Bitmap Index Scan on patient_search_text_trgm") == 1
    assert "'%MARIA%'" in plan and "'%LOPEZ%'" in plan
    assert "Seq Scan" not in plan


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("mARIA", True),
        ("ria lop", True),
        ("lopez ml@", True),
        ("maria_lopez", False),  # _ and % are plain characters, not wildcards
        ("ria%pez", False),
        ("lopezml", False),  # no word runs across two fields
        ("maria lopez nobody", False),
    ],
)
def test_search_words_match_inside_one_field_in_any_case(db, query, found):
    factories.PatientFactory(first_name="Maria", last_name="Lopez", email="ml@example.com")

    assert search_patients(query).exists() is found


def test_profile_shows_contact_consents_plans_visits_messages_and_audit(desk, clinic, patient):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=NOW,
        staff=True,
    )

    response = desk.get(reverse("desk:patient", args=[patient.pk]))

    html = response.content.decode()
    assert patient.phone.as_international in html  # "+1 404-555-0100", as people read it
    assert "SMS reminders" in html
    assert "Treatment plans" in html and plan.treatment.name in html
    assert html.count("session 2 of 3") == 1
    assert "Audit trail" in html
    assert "Messages" in html


def test_profile_flags_a_session_booked_outside_its_window(desk, clinic, patient):
    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=NOW,
        staff=True,
    )
    second = plan.appointments.get(session_number=2)
    services.reschedule_appointment(
        appointment=second,
        start=at(TUESDAY + timedelta(days=14), 10),
        now=NOW,
        staff=True,
        reason="Travelling for work",
    )

    response = desk.get(reverse("desk:plan", args=[plan.pk]))

    assert "Outside window" in response.content.decode()
    rows = response.context["rows"]
    # The third session's window now hangs on the moved second session, so its booking (made
    # for the old window) is flagged too, for the desk to move.
    assert rows[2]["session"].earliest == TUESDAY + timedelta(days=14 + 28)
    assert [r["out_of_window"] for r in rows[:3]] == [False, True, True]


def test_staff_edits_to_a_patient_are_recorded_before_and_after(desk, patient, front_desk):
    url = reverse("desk:patient_edit", args=[patient.pk])
    form = desk.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(phone="+1 404 555 0999", sms_consent="on")

    response = desk.post(url, data)

    assert response.status_code == 302
    entry = AuditEntry.objects.get(patient=patient, action="patient_edited")
    assert entry.actor == front_desk
    assert entry.changes["phone"] == ["+14045550199", "+14045550999"]
    assert entry.changes["sms_consent"] == [False, True]


def test_start_a_plan_preview_then_book_every_session_in_one_click(desk, clinic, patient):
    data = {
        "treatment": clinic["treatment"].pk,
        "location": clinic["location"].slug,
        "sessions": 4,
        "date": "2027-03-02",
        "time": "10:00",
    }
    url = reverse("desk:plan_new", args=[patient.pk])

    preview = desk.post(url, {**data, "action": "preview"})
    assert len([p for p in preview.context["proposals"] if p.slot]) == 4
    assert not TreatmentPlan.objects.exists()

    response = desk.post(url, {**data, "action": "book"})

    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    assert plan.sessions == 4
    assert plan.appointments.count() == 4


def test_plan_sessions_outside_the_protocol_are_refused(desk, clinic, patient):
    response = desk.post(
        reverse("desk:plan_new", args=[patient.pk]),
        {
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].slug,
            "sessions": 7,
            "date": "2027-03-02",
            "time": "10:00",
            "action": "book",
        },
    )

    assert "3 to 5 sessions" in response.content.decode()


def test_plans_due_lists_plans_whose_next_window_is_open_and_unbooked(desk, clinic, patient):
    started = TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 1, 20),
    )
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=at(date(2027, 1, 20), 10),
        now=at(date(2027, 1, 1), 8),
        plan=started,
        session_number=1,
        staff=True,
    )
    later = factories.PatientFactory()
    TreatmentPlan.objects.create(
        patient=later,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 3, 20),
    )

    response = desk.get(reverse("desk:plans_overdue"))

    due = response.context["due"]
    assert [(plan.patient, session.number) for plan, session, _ in due] == [(patient, 2)]
    assert "Feb 17 – Mar 3" in response.content.decode()


def test_book_the_remaining_sessions_of_a_started_plan_in_one_click(desk, clinic, patient):
    # Online, the patient booked only session 1 (Tuesday 10:00) of a 4-session course.
    first = services.start_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_start=at(TUESDAY, 10),
        now=NOW,
    )

    response = desk.post(reverse("desk:plan_book_remaining", args=[first.plan_id]), follow=True)

    assert "Booked sessions 2, 3, 4." in response.content.decode()
    visits = list(first.plan.appointments.order_by("start"))
    assert [v.session_number for v in visits] == [1, 2, 3, 4]
    for earlier, later in zip(visits, visits[1:], strict=False):
        gap = later.start.astimezone(NEW_YORK).date() - earlier.start.astimezone(NEW_YORK).date()
        assert 28 <= gap.days <= 42
        local = later.start.astimezone(NEW_YORK)
        assert (local.weekday(), local.hour) == (1, 10)  # Tuesdays at 10:00, as session 1


def test_booking_the_remaining_sessions_is_all_or_nothing(desk, clinic, patient):
    first = services.start_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=NOW,
    )
    # Away for all of session 3's window: session 2 must not stay booked on its own.
    factories.TimeOffFactory(
        provider=clinic["provider"], start=at(date(2027, 4, 20), 0), end=at(date(2027, 6, 1), 0)
    )

    response = desk.post(reverse("desk:plan_book_remaining", args=[first.plan_id]), follow=True)

    assert "Session 3 could not be placed" in response.content.decode()
    assert first.plan.appointments.count() == 1


# A patient's email is how their account signs in: the desk's change carries over, or is refused.


def edit_form(desk, patient, **changes):
    url = reverse("desk:patient_edit", args=[patient.pk])
    data = {k: v for k, v in desk.get(url).context["form"].initial.items() if v is not None}
    return desk.post(url, {**data, **changes})


def test_changing_a_patients_email_changes_the_email_they_sign_in_with(desk, db):
    user = factories.UserFactory(username="maya@example.com", email="maya@example.com")
    patient = factories.PatientFactory(user=user)

    response = edit_form(desk, patient, email="Maya.Okafor@Example.org")

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.username, user.email) == ("maya.okafor@example.org", "maya.okafor@example.org")
    entry = AuditEntry.objects.get(patient=patient, action="patient_edited")
    assert entry.changes["email"] == ["maya@example.com", "Maya.Okafor@Example.org"]
    assert entry.changes["account"] == ["maya@example.com", "maya.okafor@example.org"]


def test_an_account_with_its_own_username_keeps_it_when_the_email_changes(desk, patient):
    username = patient.user.username

    edit_form(desk, patient, email="new.address@example.org")

    patient.user.refresh_from_db()
    assert (patient.user.username, patient.user.email) == (username, "new.address@example.org")


def test_an_email_another_account_uses_is_refused_with_a_reason(desk, patient):
    other = factories.UserFactory(username="taken@example.com", email="taken@example.com")
    before = (patient.email, patient.user.username, patient.user.email)

    response = edit_form(desk, patient, email="TAKEN@example.com")

    assert response.status_code == 400
    assert "Another account already uses that email" in response.content.decode()
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert (patient.email, patient.user.username, patient.user.email) == before
    assert not AuditEntry.objects.filter(patient=patient).exists()
    other.refresh_from_db()
    assert other.email == "taken@example.com"


def test_a_patient_who_signs_in_online_keeps_an_email(desk, patient):
    response = edit_form(desk, patient, email="")

    assert response.status_code == 400
    assert "cannot be blank" in response.content.decode()


def test_a_phone_patients_email_is_theirs_alone_to_change(desk, db):
    phoned = factories.PatientFactory(user=None, email="old@example.com")
    factories.UserFactory(username="someone", email="new@example.com")

    response = edit_form(desk, phoned, email="new@example.com")

    assert response.status_code == 302  # no account of theirs to move, nothing to refuse
    phoned.refresh_from_db()
    assert phoned.email == "new@example.com"
