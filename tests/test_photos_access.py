"""Every photo link, tried by everyone: patient A (whose photos they are), patient B,
aesthetician A (who treats A), aesthetician B, the front desk and anonymous visitors. Only
the desk and aesthetician A see A's photos; patient A sees only the ones marked shareable.
A link made for one user shows nothing to another. Zero leaks; each look is a PhotoView.

(The pages that carry a photo's, visit's or plan's id are in tests/test_access_matrix.py.)
"""

from datetime import date, datetime, timedelta

import pytest
import time_machine

from photos import services as photos
from photos.models import PhotoView
from tests import factories
from tests.helpers import NEW_YORK, sign_in
from tests.photo_helpers import add_photo
from tests.test_chart import book_visit

ROLES = ("patient_a", "patient_b", "aesthetician_a", "aesthetician_b", "front_desk", "anonymous")
VARIANTS = ("original", "thumbnail")
START = datetime(2027, 3, 2, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def world(clinic, front_desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    patient_a = factories.PatientFactory(user__username="patient-a")
    patient_b = factories.PatientFactory(user__username="patient-b")
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    visit = book_visit(clinic, patient_a, START, provider=clinic["provider"])
    # Patient B is aesthetician B's patient, so B is a real aesthetician with a schedule.
    book_visit(clinic, patient_b, START + timedelta(days=1), provider=other)
    after = START + timedelta(hours=1)
    return {
        "users": {
            "patient_a": patient_a.user,
            "patient_b": patient_b.user,
            "aesthetician_a": clinic["provider"].user,
            "aesthetician_b": other.user,
            "front_desk": front_desk,
            "anonymous": None,
        },
        "photos": {
            "private": add_photo(visit, kind="before", now=after),
            "shared": add_photo(visit, kind="after", shareable=True, now=after),
        },
    }


ALLOWED = {
    "private": {"aesthetician_a", "front_desk"},
    "shared": {"aesthetician_a", "front_desk", "patient_a"},
}


def fetch(client, world, role, url):
    client.logout()
    user = world["users"][role]
    if user is not None:
        sign_in(client, user)
    with time_machine.travel(date(2027, 3, 2), tick=True):
        response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def link_for(world, photo, variant, role):
    owner = world["users"][role] or world["users"]["patient_a"]
    with time_machine.travel(date(2027, 3, 2), tick=True):
        return photos.link(photo, variant, owner)


def test_each_photo_link_shows_the_photo_only_to_who_may_see_it(client, world):
    leaks, refused_owners = [], []
    for which, photo in world["photos"].items():
        for variant in VARIANTS:
            for role in ROLES:
                status, body = fetch(client, world, role, link_for(world, photo, variant, role))
                allowed = role in ALLOWED[which]
                if allowed and (status != 200 or not body.startswith(b"\xff\xd8")):
                    refused_owners.append(f"{role} {which} {variant} -> {status}")
                if not allowed and (status == 200 or body.startswith(b"\xff\xd8")):
                    leaks.append(f"{role} {which} {variant} -> {status}")

    assert leaks == []
    assert refused_owners == []
    viewers = set(PhotoView.objects.values_list("viewer__username", "photo", "variant"))
    assert len(viewers) == 2 * 4 + 2  # aesthetician A, desk: 2 photos x 2 sizes; patient A: 2


def test_a_link_made_for_someone_who_may_see_it_shows_nothing_to_anyone_else(client, world):
    leaks = []
    for photo in world["photos"].values():
        for maker in ("aesthetician_a", "front_desk"):
            url = link_for(world, photo, "original", maker)
            for role in set(ROLES) - {maker}:
                status, body = fetch(client, world, role, url)
                if status == 200 or body.startswith(b"\xff\xd8"):
                    leaks.append(f"{role} opened {maker}'s link -> {status}")

    assert leaks == []
