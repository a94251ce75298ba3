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
