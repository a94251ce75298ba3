"""The 403, 404 and 500 pages are the site's own (templates/403.html, 404.html, 500.html): the
layout with its navigation and a way back, no stack trace, no list of the site's URLs, and
a record that is not yours is a friendly 404 even with DEBUG on (skinclinic.errors)."""

from datetime import datetime

import pytest
from django.template import loader
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.helpers import NEW_YORK, book, sign_in

DEBUG_PAGE_WORDS = ("Traceback", "URLconf", "Django tried these URL patterns", "DEBUG = True")


def assert_friendly(page, status: int) -> str:
    assert page.status_code == status
    html = page.content.decode()
    assert '<nav class="navbar' in html and 'aria-label="Main"' in html  # the site's navigation
    assert f'href="{reverse("home")}"' in html
    for word in DEBUG_PAGE_WORDS:
        assert word not in html
    return html


@pytest.fixture
def visit(clinic, now):
    return book(clinic, factories.PatientFactory(), datetime(2027, 3, 2, 10, tzinfo=NEW_YORK), now)


def test_a_page_not_open_to_the_role_is_a_friendly_403_pointing_to_their_own_page(client, clinic):
    sign_in(client, clinic["provider"].user)

    page = client.get(reverse("desk:calendar"))

    html = assert_friendly(page, 403)
    assert "This page is not open to your account" in html
    assert f'href="{reverse("my_day")}">Go to your page' in html


def test_an_unknown_address_is_a_friendly_404(client, db):
    page = client.get("/no-such-page/")

    html = assert_friendly(page, 404)
    assert "We could not find that page" in html
    assert f'href="{reverse("login")}"' in html  # signed out: the Sign in link of the layout


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_someone_elses_visit_is_a_friendly_404_even_with_debug_on(client, visit, settings, debug):
    settings.DEBUG = debug
    other = factories.PatientFactory()
    sign_in(client, other.user)

    for url in (
        reverse("visit_detail", args=[visit.pk]),
        reverse("visit_cancel", args=[visit.pk]),
        reverse("visit_ics", args=[visit.pk]),
        reverse("book_done", args=[visit.pk]),
    ):
        html = assert_friendly(client.get(url), 404)
        assert f'href="{reverse("my_appointments")}">Go to your page' in html
        assert str(visit.patient) not in html


def test_another_aestheticians_visit_is_a_friendly_404_even_with_debug_on(
    client, visit, settings, location, treatment
):
    settings.DEBUG = True
    colleague = factories.ProviderFactory(locations=[location], treatments=[treatment])
    sign_in(client, colleague.user)

    html = assert_friendly(client.get(reverse("visit_chart", args=[visit.pk])), 404)
    assert f'href="{reverse("my_day")}">Go to your page' in html


def test_an_unknown_address_under_debug_still_gets_djangos_help_for_developers(
    client, db, settings
):
    """Only records that are not yours are hidden; a typo in development still lists URLs."""
    settings.DEBUG = True

    assert "Django tried these URL patterns" in client.get("/no-such-page/").content.decode()


@pytest.mark.urls("tests.error_urls")
def test_a_bug_is_a_friendly_500_with_no_stack_trace(db):
    client = Client(raise_request_exception=False)
    sign_in(client, factories.PatientFactory().user)

    html = assert_friendly(client.get("/broken/"), 500)
    assert "Something went wrong on our side" in html
    assert "a bug in a view" not in html
    assert "RuntimeError" not in html


def test_the_500_page_renders_with_no_request_context_at_all(db):
    """Whatever broke (the session, the database) cannot break the error page too."""
    html = loader.get_template("500.html").render()

    assert "Something went wrong on our side" in html
    assert 'aria-label="Main"' in html
    assert f'href="{reverse("my_appointments")}"' in html
