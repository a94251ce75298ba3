"""On a phone, an aesthetician opens a visit from My day, takes a before photo (a JPEG with
GPS tags), saves it and sees the thumbnail, served through its short-lived link."""

import pytest

from photos.models import Photo
from tests.e2e.conftest import axe_violations
from tests.e2e.test_aesthetician_day import PASSWORD, visit_in_progress
from tests.helpers import authenticator, totp_code
from tests.photo_helpers import jpeg_with_gps


@pytest.mark.django_db(transaction=True)
def test_an_aesthetician_takes_a_photo_on_a_phone_and_sees_it(live_server, phone, clinic):
    provider = clinic["provider"]
    visit_in_progress(provider, clinic["room"], clinic["location"], clinic["treatment"])
    device = authenticator(provider.user)
    page = phone

    page.goto(live_server.url + "/staff/my-day/")
    page.get_by_label("Email").fill(provider.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="My day").wait_for()

    page.get_by_role("link", name="Photos of Maya Lindqvist").click()
    page.get_by_role("heading", name="Add photos").wait_for()
    page.get_by_label("Zone").select_option("cheeks")
    page.get_by_label("Before").check()
    page.locator("input[type=file][capture=environment]").set_input_files(
        [{"name": "IMG_0042.JPG", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}]
    )
    page.get_by_role("button", name="Save photos").click()

    page.get_by_text("1 photo saved.").wait_for()
    image = page.get_by_role("img", name="Before photo, cheeks")
    image.wait_for()
    loaded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=image.element_handle())
    assert Photo.objects.get().zone == "cheeks"
    assert axe_violations(page) == []
