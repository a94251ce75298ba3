"""Make the site's icons in static/icons/: favicon.ico (16, 32 and 48 px), the app icons of
the web manifest (192 and 512 px) and the Apple touch icon (180 px, square: iOS rounds it): a
white drop on the clinic's teal, with rounded corners.

Standard library only (zlib + struct write the PNGs; the .ico holds PNG images, which every
current browser reads), so it runs without Pillow:

    python scripts/make_icons.py
"""

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
TEAL = (15, 118, 110)  # #0f766e, also the manifest's theme_color and base.html's theme-color
WHITE = (255, 255, 255)
SAMPLES = 4  # per axis: 16 samples a pixel smooth the edges


def _in_rounded_square(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _in_drop(x: float, y: float) -> bool:
    """A drop: a circle and the cone from its tip to the circle's tangent points."""
    cx, cy, r, tip = 0.5, 0.6, 0.22, 0.17
    if (x - cx) ** 2 + (y - cy) ** 2 <= r**2:
        return True
    d = cy - tip
    if not tip <= y <= tip + (d * d - r * r) / d:
        return False
    return abs(x - cx) <= (y - tip) * math.tan(math.asin(r / d))


def pixels(size: int, corner: float = 0.22) -> list[list[tuple[int, int, int, int]]]:
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            square = drop = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) / size
                    y = (py + (sy + 0.5) / SAMPLES) / size
                    if _in_rounded_square(x, y, corner):
                        square += 1
                        drop += _in_drop(x, y)
            total = SAMPLES * SAMPLES
            if not square:
                row.append((0, 0, 0, 0))
                continue
            mix = drop / square
            colour = tuple(round(t + (w - t) * mix) for t, w in zip(TEAL, WHITE, strict=True))
            row.append((*colour, round(255 * square / total)))
        rows.append(row)
    return rows


def png(size: int, corner: float = 0.22) -> bytes:
    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in row) for row in pixels(size, corner))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico(sizes: list[int]) -> bytes:
    images = [png(size) for size in sizes]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, image in zip(sizes, images, strict=True):
        out += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return out + b"".join(images)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "favicon.ico").write_bytes(ico([16, 32, 48]))
    for name, size in (("icon-192.png", 192), ("icon-512.png", 512)):
        (OUT / name).write_bytes(png(size))
    # iOS rounds the corners itself and would paint transparent ones black.
    (OUT / "apple-touch-icon.png").write_bytes(png(180, corner=0))


if __name__ == "__main__":
    main()
