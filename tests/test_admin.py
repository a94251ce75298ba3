"""The Django admin: every registered model's pages load on the demo clinic."""

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from booking import services
from booking.models import (
    Appointment,
    AuditEntry,
    ClosedDay,
    Patient,
    ScreeningAnswer,
    TreatmentPlan,
)
from skinclinic.middleware import AdminTimeZoneMiddleware
from tests import factories
from tests.helpers import sign_in

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODEL_IDS = [model._meta.label for model, _ in REGISTERED]


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-2027")
    with time_machine.travel(datetime(2027, 3, 1, 13, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def superuser_client(client, demo):
    superuser = User.objects.get(username="admin")
    AuthToken.objects.create(user=superuser)  # made on request, not seeded
    sign_in(client, superuser)
    return client


def admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_the_changelist_loads(superuser_client, model, model_admin):
    response = superuser_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_the_add_page_loads_unless_adding_is_refused(superuser_client, model, model_admin, rf):
    request = rf.get("/")
    request.user = User.objects.get(username="admin")
    expected = 200 if model_admin.has_add_permission(request) else 403

    response = superuser_client.get(admin_url(model, "add"))

    assert response.status_code == expected


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_the_change_page_of_a_seeded_row_loads(superuser_client, model, model_admin):
    row = model.objects.order_by("pk").first()
    if row is None:
        pytest.skip(f"the demo data has no {model._meta.verbose_name}")

    response = superuser_client.get(admin_url(model, "change", row.pk))

    assert response.status_code == 200


def test_the_front_desk_can_open_the_appointments_in_the_admin(client, demo):
    sign_in(client, User.objects.get(username="frontdesk"))

    response = client.get(reverse("admin:booking_appointment_changelist"))

    assert response.status_code == 200
    assert "Microneedling" in response.text


def test_the_admin_refuses_an_appointment_that_overlaps_another(client, clinic, patient, now):
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=2, hour=10),  # Tuesday 10:00 New York = 15:00 UTC
        now=now,
    )
    sign_in(client, factories.UserFactory(username="owner", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": factories.PatientFactory().pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "room": factories.RoomFactory(location=clinic["location"]).pk,
            "start_0": "2027-03-02",
            "start_1": "10:45:00",  # New York, while the aesthetician is busy
            "status": "booked",
            "kind": "single",
        },
    )

    assert response.status_code == 200
    assert "is already busy then" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_a_visit_added_in_the_admin_cannot_start_completed(client, clinic, patient, owner):
    """Completing goes through change_status, whose listeners check the consent; an admin
    form offering 'completed' for a new visit would skip that check."""
    sign_in(client, owner)
    page = client.get("/admin/booking/appointment/add/").content.decode()
    assert 'value="booked"' in page
    assert 'value="completed"' not in page

    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": patient.pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "room": clinic["room"].pk,
            "start_0": "2027-03-02",
            "start_1": "10:00:00",
            "status": "completed",
            "kind": "single",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_admin_save_service_refuses_a_new_visit_that_is_already_completed(
    clinic, patient, owner, now
):
    visit = Appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=clinic["provider"],
        room=clinic["room"],
        start=now.replace(day=2, hour=15),
        status=Appointment.Status.COMPLETED,
    )

    with pytest.raises(services.BookingError, match="starts booked or confirmed"):
        services.record_admin_save(visit, actor=owner, changed=["status"], now=now)

    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_admin_save_that_loses_a_race_gets_a_message_not_an_error(
    client, clinic, patient, now, monkeypatch
):
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=2, hour=10),
        now=now,
    )
    # As if the other booking landed between the form's check and the save.
    monkeypatch.setattr(services, "overlap_problem", lambda appointment: None)
    sign_in(client, factories.UserFactory(username="owner2", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": factories.PatientFactory().pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "room": clinic["room"].pk,
            "start_0": "2027-03-02",
            "start_1": "10:45:00",  # New York: the admin works in the clinic's zone
            "status": "booked",
            "kind": "single",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Not saved: That time was just taken" in response.content.decode()
    assert Appointment.objects.count() == 1


# The admin works in the clinic's zone (settings.CLINIC_TIME_ZONE), not UTC.

UTC = ZoneInfo("UTC")


@pytest.fixture
def owner(db):
    return factories.UserFactory(username="owner3", is_staff=True, is_superuser=True)


def appointment_post(clinic, patient, **overrides) -> dict:
    return {
        "patient": patient.pk,
        "treatment": clinic["treatment"].pk,
        "location": clinic["location"].pk,
        "provider": clinic["provider"].pk,
        "room": clinic["room"].pk,
        "start_0": "2027-03-02",
        "start_1": "10:00:00",
        "status": "booked",
        "kind": "single",
        "out_of_window_reason": "",
        "notes": "",
        **overrides,
    }


def test_a_time_typed_in_the_admin_is_the_clinics_wall_clock(client, clinic, patient, owner):
    sign_in(client, owner)

    response = client.post("/admin/booking/appointment/add/", appointment_post(clinic, patient))

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.start == datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 EST


def test_the_change_page_shows_the_local_time_and_names_the_zone(
    client, clinic, patient, owner, now
):
    appointment = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=2, hour=10),  # 15:00 UTC
        now=now,
    )
    sign_in(client, owner)

    page = client.get(admin_url(Appointment, "change", appointment.pk)).content.decode()

    assert 'value="10:00:00"' in page
    assert 'value="15:00:00"' not in page
    assert "America/New_York" in page


def test_the_admin_zone_follows_the_setting(client, clinic, patient, owner, settings):
    settings.CLINIC_TIME_ZONE = "America/Los_Angeles"
    sign_in(client, owner)

    client.post("/admin/booking/appointment/add/", appointment_post(clinic, patient))

    assert Appointment.objects.get().start == datetime(2027, 3, 2, 18, 0, tzinfo=UTC)


def test_only_admin_requests_switch_to_the_clinics_zone(rf):
    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    middleware = AdminTimeZoneMiddleware(view)
    middleware(rf.get("/book/"))
    middleware(rf.get("/admin/booking/appointment/"))

    assert seen == ["UTC", "America/New_York"]
    assert timezone.get_current_timezone_name() == "UTC"  # and back afterwards


def test_an_unknown_clinic_time_zone_stops_start_up_naming_the_variable():
    from tests.test_settings import LOAD_SETTINGS, run, show

    result = run(["-c", LOAD_SETTINGS], CLINIC_TIME_ZONE="America/Atlantis")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CLINIC_TIME_ZONE" in result.stderr.strip().splitlines()[-1]
    assert show("settings.CLINIC_TIME_ZONE") == ["'America/New_York'"]
    london = show(
        "settings.CLINIC_TIME_ZONE", "settings.TIME_ZONE", CLINIC_TIME_ZONE="Europe/London"
    )
    assert london == ["'Europe/London'", "'UTC'"]  # stored instants stay UTC


# Status, cancellation and course fields change through the staff pages' services only.


def test_the_admin_cannot_cancel_a_booked_appointment(client, clinic, patient, owner, now):
    appointment = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=2, hour=10),
        now=now,
    )
    sign_in(client, owner)
    url = admin_url(Appointment, "change", appointment.pk)

    page = client.get(url).content.decode()
    response = client.post(
        url,
        appointment_post(
            clinic,
            patient,
            status="cancelled",
            cancellation_reason="Patient called",
            late_cancellation="on",
            session_number="2",
            notes="Prefers mornings",
        ),
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert appointment.cancelled_at is None
    assert appointment.cancellation_reason == ""
    assert appointment.late_cancellation is False
    assert appointment.session_number is None
    assert appointment.notes == "Prefers mornings"  # the other fields still save
    assert 'name="status"' not in page
    assert "/staff/" in page


def test_the_add_page_still_sets_the_status(client, owner, db):
    sign_in(client, owner)

    page = client.get("/admin/booking/appointment/add/").content.decode()

    assert 'name="status"' in page
    assert 'name="cancelled_at' not in page


# Admin writes to patients, plans and screening answers leave audit entries.


def patient_post(patient, **overrides) -> dict:
    """The patient's change form as posted unchanged (plus `overrides`)."""
    data = {
        "user": patient.user_id or "",
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": patient.phone,
        "date_of_birth": patient.date_of_birth or "",
        "fitzpatrick_type": patient.fitzpatrick_type or "",
        "notes": patient.notes,
        "language": patient.language,
        "screening_answers-TOTAL_FORMS": "0",
        "screening_answers-INITIAL_FORMS": "0",
        "screening_answers-MIN_NUM_FORMS": "0",
        "screening_answers-MAX_NUM_FORMS": "1000",
    }
    for flag in ("email_consent", "sms_consent", "cleared_for_protocols"):
        if getattr(patient, flag):
            data[flag] = "on"
    return {**data, **overrides}


def test_an_admin_edit_of_a_patient_is_audited_with_before_and_after(client, owner, db):
    patient = factories.PatientFactory(phone="+14045550100")
    sign_in(client, owner)

    response = client.post(
        admin_url(Patient, "change", patient.pk),
        patient_post(patient, phone="+14045550177", cleared_for_protocols="on"),
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="edited_in_admin")
    assert entry.actor == owner
    assert entry.patient == patient
    assert entry.changes == {
        "phone": ["+14045550100", "+14045550177"],
        "cleared_for_protocols": [False, True],
    }


def test_an_admin_save_without_changes_is_not_audited(client, owner, db):
    patient = factories.PatientFactory()
    sign_in(client, owner)

    client.post(admin_url(Patient, "change", patient.pk), patient_post(patient))

    assert not AuditEntry.objects.exists()


def test_an_admin_edit_of_a_plan_is_audited(client, owner, clinic, patient):
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 3, 2),
    )
    sign_in(client, owner)

    response = client.post(
        admin_url(TreatmentPlan, "change", plan.pk),
        {
            "patient": patient.pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "sessions": "4",
            "first_date": "2027-03-02",
            "status": "active",
            "created_by": "",
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="edited_in_admin")
    assert (entry.patient, entry.plan) == (patient, plan)
    assert entry.changes == {
        "provider": [None, str(clinic["provider"])],
        "sessions": [3, 4],
    }


def answer_post(answer, **overrides) -> dict:
    answered = answer.answered_at.astimezone(ZoneInfo("America/New_York"))
    return {
        "patient": answer.patient.pk,
        "rule": answer.rule.pk,
        "yes": "on" if answer.yes else "",
        "last_occurred": "",
        "answered_at_0": answered.strftime("%Y-%m-%d"),
        "answered_at_1": answered.strftime("%H:%M:%S"),
        # answered_at defaults to timezone.now, so its form also posts its initial value.
        "initial-answered_at_0": answered.strftime("%Y-%m-%d"),
        "initial-answered_at_1": answered.strftime("%H:%M:%S"),
        **overrides,
    }


def inline_key(name: str) -> str:
    if name.startswith("initial-"):
        return f"initial-screening_answers-0-{name.removeprefix('initial-')}"
    return f"screening_answers-0-{name}"


@pytest.fixture
def answer(patient, screening_rules):
    return ScreeningAnswer.objects.create(
        patient=patient,
        rule=screening_rules[0],
        yes=True,
        answered_at=datetime(2027, 2, 1, 15, 0, tzinfo=UTC),
    )


def test_an_admin_edit_of_a_screening_answer_is_audited(client, owner, answer, patient):
    sign_in(client, owner)

    response = client.post(
        admin_url(ScreeningAnswer, "change", answer.pk), answer_post(answer, yes="")
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="edited_in_admin")
    assert entry.patient == patient
    assert entry.changes == {"yes": [True, False]}
    assert answer.rule.code in entry.reason


def test_screening_answers_edited_inline_on_the_patient_are_audited(client, owner, answer, patient):
    sign_in(client, owner)
    inline = {inline_key(k): v for k, v in answer_post(answer, yes="").items()}
    inline.pop("screening_answers-0-patient")

    response = client.post(
        admin_url(Patient, "change", patient.pk),
        patient_post(
            patient,
            **{
                "screening_answers-TOTAL_FORMS": "1",
                "screening_answers-INITIAL_FORMS": "1",
                "screening_answers-0-id": str(answer.pk),
                "screening_answers-0-patient": str(patient.pk),
                **inline,
            },
        ),
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="edited_in_admin")
    assert entry.patient == patient
    assert entry.changes == {"yes": [True, False]}


def test_a_screening_answer_deleted_inline_is_audited(client, owner, answer, patient):
    sign_in(client, owner)
    inline = {inline_key(k): v for k, v in answer_post(answer).items()}

    client.post(
        admin_url(Patient, "change", patient.pk),
        patient_post(
            patient,
            **{
                "screening_answers-TOTAL_FORMS": "1",
                "screening_answers-INITIAL_FORMS": "1",
                "screening_answers-0-id": str(answer.pk),
                "screening_answers-0-DELETE": "on",
                **inline,
            },
        ),
    )

    assert not ScreeningAnswer.objects.exists()
    entry = AuditEntry.objects.get(action="edited_in_admin")
    assert entry.patient == patient
    assert entry.changes == {"deleted": [str(answer), None]}


def test_an_admin_edit_of_an_appointment_is_audited_with_before_and_after(
    client, clinic, patient, now
):
    visit = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=2, hour=10),
        now=now,
    )
    sign_in(client, factories.UserFactory(username="owner3", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/booking/appointment/{visit.pk}/change/")
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if key in page.context["adminform"].form.fields
    }
    data.update(
        patient=patient.pk,
        start_0="2027-03-02",
        start_1="10:00:00",
        notes="Prefers the window seat",
        kind="single",
    )

    client.post(
        f"/admin/booking/appointment/{visit.pk}/change/",
        {k: v for k, v in data.items() if v is not None},
    )

    entry = AuditEntry.objects.get(appointment=visit, action="edited_in_admin")
    assert entry.changes["notes"] == ["", "Prefers the window seat"]


def test_an_admin_change_of_a_patients_email_moves_their_account_too(client, owner, db):
    user = factories.UserFactory(username="maya@example.com", email="maya@example.com")
    patient = factories.PatientFactory(user=user)
    sign_in(client, owner)

    response = client.post(
        admin_url(Patient, "change", patient.pk), patient_post(patient, email="maya@example.org")
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.username, user.email) == ("maya@example.org", "maya@example.org")


def test_the_admin_refuses_an_email_another_account_uses(client, owner, db):
    patient = factories.PatientFactory()
    factories.UserFactory(username="taken", email="taken@example.com")
    sign_in(client, owner)

    response = client.post(
        admin_url(Patient, "change", patient.pk), patient_post(patient, email="taken@example.com")
    )

    assert response.status_code == 200
    assert "Another account already uses that email" in response.content.decode()
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert patient.email == patient.user.email != "taken@example.com"


def test_only_a_superuser_can_link_a_patient_to_another_account(client, db):
    from accounts.roles import grant_role_permissions

    grant_role_permissions()
    desk = factories.UserFactory(username="desk-admin", is_staff=True, groups=["Front desk"])
    patient, stranger = factories.PatientFactory(), factories.UserFactory(username="stranger")
    mine = patient.user
    sign_in(client, desk)

    page = client.get(admin_url(Patient, "change", patient.pk))
    response = client.post(
        admin_url(Patient, "change", patient.pk),
        patient_post(patient, user=stranger.pk, notes="called"),
    )

    assert 'name="user"' not in page.content.decode()
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.user == mine and patient.notes == "called"

    sign_in(client, factories.UserFactory(username="boss", is_staff=True, is_superuser=True))
    relinked = patient_post(patient, user=stranger.pk, email=stranger.email)
    client.post(admin_url(Patient, "change", patient.pk), relinked)
    patient.refresh_from_db()
    assert patient.user == stranger


def test_the_holiday_preset_closes_the_locations_on_next_years_us_federal_holidays(
    client, location
):
    other = factories.LocationFactory(name="Midtown", slug="midtown")
    ClosedDay.objects.create(location=location, date=date(2027, 7, 4), name="Fourth of July")
    sign_in(client, factories.UserFactory(username="owner", is_staff=True, is_superuser=True))
    changelist = reverse("admin:booking_location_changelist")
    action = {"action": "add_federal_holidays", "_selected_action": [location.pk, other.pk]}

    with time_machine.travel(datetime(2026, 6, 15, 12, tzinfo=ZoneInfo("UTC")), tick=False):
        first = client.post(changelist, action, follow=True)
        again = client.post(changelist, action, follow=True)

    assert "Added 11 closed days for 2027" in first.content.decode()
    assert "Added 0 closed days for 2027" in again.content.decode()
    expected = {
        (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 5, 31), "Memorial Day"),
        (date(2027, 7, 4), "Independence Day"),
        (date(2027, 9, 6), "Labor Day"),
        (date(2027, 11, 25), "Thanksgiving"),
        (date(2027, 12, 25), "Christmas Day"),
    }
    assert set(other.closed_days.values_list("date", "name")) == expected
    # A day already closed keeps the name the clinic gave it.
    kept = expected - {(date(2027, 7, 4), "Independence Day")} | {
        (date(2027, 7, 4), "Fourth of July")
    }
    assert set(location.closed_days.values_list("date", "name")) == kept


def test_the_location_page_lists_its_closed_days(client, location):
    ClosedDay.objects.create(location=location, date=date(2027, 1, 1), name="New Year's Day")
    sign_in(client, factories.UserFactory(username="owner", is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:booking_location_change", args=[location.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Closed days" in page
    assert "New Year&#x27;s Day" in page
    assert (
        "Add US federal holidays for next year"
        in client.get(reverse("admin:booking_location_changelist")).content.decode()
    )


def test_the_admin_refuses_a_new_appointment_on_a_closed_day(client, clinic, patient):
    ClosedDay.objects.create(location=clinic["location"], date=date(2027, 3, 2), name="Inventory")
    sign_in(client, factories.UserFactory(username="owner", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": patient.pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "room": clinic["room"].pk,
            "start_0": "2027-03-02",
            "start_1": "10:00:00",  # New York
            "status": "booked",
            "kind": "single",
        },
    )

    assert response.status_code == 200
    assert "The clinic is closed that day (Inventory)." in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_visit_on_a_day_closed_later_can_still_be_edited_in_the_admin(
    client, clinic, patient, now
):
    visit = services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=now.replace(day=2, hour=10),
        now=now,
    )
    ClosedDay.objects.create(location=clinic["location"], date=date(2027, 3, 2), name="Inventory")
    sign_in(client, factories.UserFactory(username="owner4", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/booking/appointment/{visit.pk}/change/")
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if key in page.context["adminform"].form.fields
    }
    data.update(
        patient=patient.pk,
        start_0="2027-03-02",
        start_1="10:00:00",
        notes="Call to rebook",
        kind="single",
    )

    response = client.post(
        f"/admin/booking/appointment/{visit.pk}/change/",
        {k: v for k, v in data.items() if v is not None},
    )

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.notes == "Call to rebook"
