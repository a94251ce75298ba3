"""/favicon.ico, the app icons and the web manifest (installable as a home-screen app): each is
a real file the pages link, and the CSP lets the browser load them."""

import json
import struct
from urllib.parse import urljoin

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def linked(html: str, rel: str) -> str:
    start = html.index(f'<link rel="{rel}" href="') + len(f'<link rel="{rel}" href="')
    return html[start : html.index('"', start)]


def test_favicon_ico_is_an_icon_not_a_404(client):
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 302

    icon = client.get(redirect["Location"])

    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/")
    data = body(icon)
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, 3)  # an .ico holding 16, 32 and 48 px images
    sizes = [data[6 + 16 * i] for i in range(count)]
    assert sizes == [16, 32, 48]


def test_every_page_links_the_manifest_the_icons_and_a_theme_colour(client):
    html = client.get(reverse("home")).content.decode()

    assert '<meta name="theme-color" content="#0f766e">' in html
    for rel in ("manifest", "apple-touch-icon", "icon"):
        assert client.get(linked(html, rel)).status_code == 200
    assert png_size(body(client.get(linked(html, "apple-touch-icon")))) == (180, 180)


def test_the_manifest_is_valid_json_naming_icons_that_exist(client):
    url = linked(client.get(reverse("home")).content.decode(), "manifest")
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(body(response))
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0f766e"
    sizes = set()
    for icon in manifest["icons"]:
        image = client.get(urljoin(url, icon["src"]))
        assert image.status_code == 200 and image["Content-Type"] == icon["type"] == "image/png"
        width, height = png_size(body(image))
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add(width)
    assert {192, 512} <= sizes


def test_the_csp_lets_the_manifest_and_icons_load(client):
    policy = client.get(reverse("home"))["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    # manifest-src and img-src fall back to default-src; neither may shut out our own files.
    assert directives.get("manifest-src", directives["default-src"]) == "'self'"
    assert "'self'" in directives["img-src"]
