"""Public pages: the home page and the treatment pages, on the demo clinic."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from treatments.models import Treatment


@pytest.fixture
def demo(db):
    with time_machine.travel(datetime(2027, 3, 1, 13, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        call_command("seed_demo", stdout=StringIO())


def test_the_home_page_lists_the_demo_treatments_by_name(client, demo):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    for name in Treatment.objects.values_list("name", flat=True):
        assert name in response.text
    assert "Microneedling with PRP" in response.text


def test_the_home_page_leaves_out_a_treatment_no_longer_offered(client, demo):
    Treatment.objects.filter(slug="hydrafacial").update(is_active=False)

    response = client.get(reverse("home"))

    assert "HydraFacial" not in response.text


def test_a_treatment_page_states_the_protocol_in_plain_words(client, demo):
    response = client.get(reverse("treatment_detail", args=["microneedling"]))

    assert response.status_code == 200
    assert "3 to 5 sessions, 4 to 6 weeks apart, then maintenance at 6 and 12 months" in (
        response.text
    )
    assert "$350" in response.text


def test_who_it_is_not_for_names_the_conditions(client, demo):
    response = client.get(reverse("treatment_detail", args=["microneedling"]))

    page = response.text
    section = page[page.index("Who it is not for") :]
    for condition in (
        "Pregnancy or breastfeeding",
        "Active acne breakouts in the area",
        "A history of keloid or raised scars",
    ):
        assert f"<strong>{condition}</strong>" in section


def test_a_treatment_without_a_protocol_shows_no_course(client, demo):
    response = client.get(reverse("treatment_detail", args=["hydrafacial"]))

    assert response.status_code == 200
    assert "weeks apart" not in response.text


def test_a_treatment_page_shows_its_care_instructions(client, demo):
    peel = Treatment.objects.get(slug="chemical-peel")

    response = client.get(peel.get_absolute_url())

    assert "3 to 6 sessions, 3 to 5 weeks apart" in response.text
    assert peel.precare.split(".")[0] in response.text
    assert peel.aftercare.split(".")[0] in response.text


def test_an_unknown_treatment_is_not_found(client, demo):
    response = client.get(reverse("treatment_detail", args=["laser-tattoo-removal"]))

    assert response.status_code == 404
