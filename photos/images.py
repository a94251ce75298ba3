"""Turning an uploaded file into the two images the clinic keeps: Pillow only, no Django.

What comes in is whatever a phone sends: JPEG, PNG or an iPhone's HEIC (through pillow-heif).
The type is read from the bytes, never from the file name or the browser's content type. What
goes out is always a JPEG re-encoded from the decoded pixels, with the camera's orientation
applied and *no* metadata copied: no EXIF (so no GPS position, camera serial or time stamp),
no XMP, no comments. That re-encoded full-resolution JPEG is what the record calls the
"original"; the uploaded bytes themselves are never stored. A thumbnail is made from it.

Limits (bytes and pixels) are checked before the pixels are decoded, so a decompression bomb
is refused without being expanded in memory.
"""

import io
from dataclasses import dataclass
from typing import IO

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "THUMBNAIL_SIZE",
    "Processed",
    "UnreadableImage",
    "process",
]

pillow_heif.register_heif_opener()

# Pillow's names for the formats a phone camera produces (a multi-frame MPO opens as JPEG).
ACCEPTED_FORMATS = ("JPEG", "PNG", "HEIF")
MAX_BYTES = 20 * 1024 * 1024  # 20 MB per file
MAX_PIXELS = 50_000_000  # 50 megapixels
THUMBNAIL_SIZE = (480, 480)  # the longest side fits in 480 px, the aspect ratio kept
ORIGINAL_QUALITY = 90
THUMBNAIL_QUALITY = 80


class UnreadableImage(ValueError):
    """A file that is not a photo the clinic can keep, with a message for the person who
    uploaded it."""


@dataclass(frozen=True)
class Processed:
    """The JPEG bytes to store, and what the upload was."""

    original: bytes
    thumbnail: bytes
    width: int
    height: int
    source_format: str


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif=, no icc/xmp: Pillow writes only what it is given, so nothing of the camera's
    # metadata survives.
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def process(
    file: IO[bytes], *, size: int, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> Processed:
    """Read `file` (`size` bytes long) and return the stripped original and its thumbnail.

    Raises UnreadableImage for a file that is too large, not an image in an accepted format,
    has too many pixels, or cannot be decoded.
    """
    if size > max_bytes:
        raise UnreadableImage(
            f"is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes // 1024 // 1024} MB."
        )
    if size == 0:
        raise UnreadableImage("is empty.")
    try:
        image = Image.open(file, formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise UnreadableImage(
            f"has too many pixels; the limit is {max_pixels / 1e6:.0f} MP."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnreadableImage(
            "is not a photo we can read: please send a JPEG, PNG or HEIC image."
        ) from None
    source_format = image.format or "unknown"
    width, height = image.size
    if width * height > max_pixels:
        raise UnreadableImage(
            f"is {width} x {height} pixels ({width * height / 1e6:.0f} MP); the limit is "
            f"{max_pixels / 1e6:.0f} MP."
        )
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = upright.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnreadableImage("could not be read to the end: it may be damaged.") from None
    original = _jpeg(rgb, ORIGINAL_QUALITY)
    thumbnail = rgb.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    return Processed(
        original=original,
        thumbnail=_jpeg(thumbnail, THUMBNAIL_QUALITY),
        width=rgb.width,
        height=rgb.height,
        source_format=source_format,
    )
