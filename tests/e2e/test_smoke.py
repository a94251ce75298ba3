"""The home page in a real browser: treatments listed, accessible, fits a phone."""

from tests import factories
from tests.e2e.conftest import axe_violations


def test_home_page_lists_treatments_and_passes_axe(live_server, page, db):
    factories.ProtocolFactory()

    page.goto(live_server.url + "/")

    assert page.get_by_role("link", name="Microneedling").is_visible()
    assert axe_violations(page) == []


def test_home_page_fits_a_phone(live_server, phone, db):
    factories.ProtocolFactory()

    phone.goto(live_server.url + "/")

    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert phone.get_by_role("link", name="Microneedling").is_visible()
