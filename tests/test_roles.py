"""The staff roles exist, with their admin permissions, on every install."""

import pytest
from django.contrib.auth.models import Group

from tests import factories
from tests.helpers import sign_in


@pytest.mark.django_db
def test_the_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Front desk", "Aesthetician"}


@pytest.mark.django_db
def test_the_front_desk_can_open_appointments_in_the_admin_without_demo_data(client):
    desk = factories.UserFactory(username="desk2", is_staff=True, groups=["Front desk"])
    sign_in(client, desk)

    assert client.get("/admin/booking/appointment/").status_code == 200
    assert client.get("/admin/booking/patient/add/").status_code == 200
    assert client.get("/admin/treatments/treatment/").status_code == 403
