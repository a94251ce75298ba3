"""Who may open which staff page and do which staff action.

Roles: aesthetician A (whose visit it is), aesthetician B, front desk, the visit's patient and
anonymous. Front-desk pages are every pattern in desk.urls: anyone but the front desk
gets 403, and anonymous visitors are sent to sign in.
"""

from datetime import date

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, reverse

from tests import factories
from tests.helpers import sign_in
from tests.test_chart import MONDAY, at, book_visit, chart
from tests.test_chart_pages import form_data

try:
    from desk import urls as staff_urls
except ImportError:  # the front-desk area is not there yet
    staff_urls = None

ROLES = ("aesthetician_a", "aesthetician_b", "front_desk", "patient", "anonymous")
LOGIN = "login"
TUESDAY = date(2027, 3, 2)


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def world(clinic, patient, front_desk):
    """A's visits: yesterday's (charted, day closed) and today's (not charted yet)."""
    closed = book_visit(clinic, patient, at(MONDAY, 10))
    chart(closed, at(MONDAY, 11))
    today = book_visit(clinic, patient, at(TUESDAY, 10))
    other = factories.ProviderFactory(locations=[clinic["location"]])
    return {
        "users": {
            "aesthetician_a": clinic["provider"].user,
            "aesthetician_b": other.user,
            "front_desk": front_desk,
            "patient": patient.user,
            "anonymous": None,
        },
        "a": clinic["provider"],
        "closed": closed,
        "today": today,
    }


def request_as(client, world, role, method, url, data=None):
    user = world["users"][role]
    if user is not None:
        sign_in(client, user)
    with time_machine.travel(at(TUESDAY, 11), tick=False):
        return getattr(client, method)(url, data or {})


def outcome(response) -> int | str:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return LOGIN
    return response.status_code


def _my_day(world):
    return reverse("my_day"), None


def _a_day(world):
    return f"{reverse('my_day')}?provider={world['a'].pk}", None


def _chart(world):
    return reverse("visit_chart", args=[world["today"].pk]), None


def _chart_save(world):
    return reverse("visit_chart", args=[world["today"].pk]), form_data(numbing_applied_at="10:00")


def _correct(world):
    return reverse("visit_chart_correct", args=[world["closed"].pk]), None


def _correct_save(world):
    url = reverse("visit_chart_correct", args=[world["closed"].pk])
    return url, form_data(correction_reason="Depth mistyped")


# (page, method, what each role gets: A, B, front desk, patient, anonymous)
MATRIX = [
    (_my_day, "get", (200, 200, 200, 403, LOGIN)),
    (_a_day, "get", (200, 403, 200, 403, LOGIN)),
    (_chart, "get", (200, 404, 200, 403, LOGIN)),
    (_chart_save, "post", (302, 404, 403, 403, LOGIN)),
    (_correct, "get", (200, 404, 403, 403, LOGIN)),
    (_correct_save, "post", (302, 404, 403, 403, LOGIN)),
]


@pytest.mark.parametrize(
    ("page", "method", "role", "expected"),
    [
        (page, method, role, expected)
        for page, method, outcomes in MATRIX
        for role, expected in zip(ROLES, outcomes, strict=True)
    ],
    ids=lambda value: getattr(value, "__name__", str(value)).strip("_"),
)
def test_aesthetician_pages(client, world, page, method, role, expected):
    url, data = page(world)

    response = request_as(client, world, role, method, url, data)

    assert outcome(response) == expected


def _front_desk_patterns(patterns=None, prefix=""):
    if staff_urls is None:
        return []
    found = []
    for entry in staff_urls.urlpatterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            found += _front_desk_patterns(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern):
            found.append(entry)
    return found


FRONT_DESK_PAGES = [p.name for p in _front_desk_patterns() if p.name]


def _desk_url(name: str, world) -> str:
    pattern = next(p for p in _front_desk_patterns() if p.name == name)
    args = [world["today"].pk for _ in pattern.pattern.converters]
    namespace = getattr(staff_urls, "app_name", None)
    return reverse(f"{namespace}:{name}" if namespace else name, args=args)


@pytest.mark.skipif(not FRONT_DESK_PAGES, reason="desk.urls has no pages yet")
@pytest.mark.parametrize("name", FRONT_DESK_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ["aesthetician_a", "aesthetician_b", "patient", "anonymous"])
def test_front_desk_pages_refuse_everyone_else(client, world, name, method, role):
    response = request_as(client, world, role, method, _desk_url(name, world))

    assert outcome(response) == (LOGIN if role == "anonymous" else 403)


@pytest.mark.skipif(not FRONT_DESK_PAGES, reason="desk.urls has no pages yet")
@pytest.mark.parametrize("name", FRONT_DESK_PAGES)
def test_front_desk_pages_open_for_the_front_desk(client, world, name):
    response = request_as(client, world, "front_desk", "get", _desk_url(name, world))

    assert outcome(response) not in (LOGIN, 403)
