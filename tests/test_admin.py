"""The Django admin: every registered model's pages load on the demo clinic."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from booking import services
from booking.models import Appointment
from tests import factories

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
    Token.objects.get_or_create(user=superuser)  # API tokens are made on request, not seeded
    client.force_login(superuser)
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
    client.force_login(User.objects.get(username="frontdesk"))

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
    client.force_login(factories.UserFactory(username="owner", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": factories.PatientFactory().pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "room": factories.RoomFactory(location=clinic["location"]).pk,
            "start_0": "2027-03-02",
            "start_1": "15:45:00",  # UTC: 10:45 in New York, while the aesthetician is busy
            "status": "booked",
            "kind": "single",
        },
    )

    assert response.status_code == 200
    assert "is already busy then" in response.content.decode()
    assert Appointment.objects.count() == 1


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
    client.force_login(factories.UserFactory(username="owner2", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/booking/appointment/add/",
        {
            "patient": factories.PatientFactory().pk,
            "treatment": clinic["treatment"].pk,
            "location": clinic["location"].pk,
            "provider": clinic["provider"].pk,
            "room": clinic["room"].pk,
            "start_0": "2027-03-02",
            "start_1": "15:45:00",
            "status": "booked",
            "kind": "single",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Not saved: That time was just taken" in response.content.decode()
    assert Appointment.objects.count() == 1
