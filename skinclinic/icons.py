"""/favicon.ico, which browsers ask for whatever the page links: a redirect to the icon in
static/icons/ (served by WhiteNoise under its hashed, long-cached name). The redirect itself is
cached for a day only, so a new icon shows up after a deploy. The icons are made by
scripts/make_icons.py."""

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    response = HttpResponseRedirect(static("icons/favicon.ico"))
    patch_cache_control(response, public=True, max_age=86400)
    return response
