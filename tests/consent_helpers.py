"""Shared by the consent tests: a form with its first version, a drawn signature as
signature_pad sends it, and the text inside a stored PDF."""

import base64
import contextlib
import io
import re
import zlib
from datetime import datetime

from PIL import Image, ImageDraw

from consent import services
from consent.models import ConsentForm, ConsentFormVersion, ConsentSignature


def drawn_signature(size=(600, 200), blank=False, fmt="PNG") -> str:
    """A data URL like signature_pad's toDataURL(): a transparent PNG with a stroke on it."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line(
            [(20, 150), (200, 40), (400, 160), (580, 60)], fill="black", width=4
        )
    buffer = io.BytesIO()
    image.convert("RGB" if fmt == "JPEG" else "RGBA").save(buffer, fmt)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def consent_form(treatment, *, now: datetime, **kwargs) -> ConsentFormVersion:
    values = {
        "title": "Microneedling consent",
        "body": "I understand microneedling may cause **redness** for 1-3 days.",
        "checkboxes": "I have read the aftercare.\nI am not pregnant.",
    } | kwargs
    form = ConsentForm.objects.create(treatment=treatment, **values)
    return services.publish(form, now=now)


def sign_version(version, patient, *, now, appointment=None, ticked=None, **kwargs):
    return services.sign(
        version=version,
        patient=patient,
        appointment=appointment,
        shown_sha256=services.text_sha256(services.render_version(version)),
        signature_data_url=drawn_signature(),
        ticked=version.checkboxes if ticked is None else ticked,
        now=now,
        ip_address="203.0.113.7",
        user_agent="TestBrowser/1.0",
        **kwargs,
    )


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's bytes with every deflated stream inflated (pypdf is not installed): the
    document information (title) WeasyPrint writes can be searched in it."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):  # a stream that is not deflated (an image)
            parts.append(zlib.decompress(match.group(1)))
    return b"".join(parts)


def laid_out_text(signature: ConsentSignature, png: bytes) -> str:
    """Every piece of text WeasyPrint laid out on the PDF's pages, in order."""
    document = services.pdf_document(signature, png)

    def walk(box):
        if getattr(box, "text", None):
            yield box.text
        for child in getattr(box, "children", None) or []:
            yield from walk(child)

    return "".join(t for page in document.pages for t in walk(page._page_box))
