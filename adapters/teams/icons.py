"""The Teams app icons, drawn in pure Python: a speech bubble with three dots ("out loud").

Teams wants a 192×192 full-colour icon and a 32×32 outline icon that is white on a
transparent background. Both are written as RGBA PNG files without extra dependencies.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Pixel = tuple[int, int, int, int]
Shape = Callable[[float, float], bool]  # (x, y) in 0..1 → inside?

WHITE = (255, 255, 255)
SUPERSAMPLE = 3


def png(width: int, height: int, pixels: list[list[Pixel]]) -> bytes:
    """Encode RGBA rows as a PNG file (no filtering, zlib level 9)."""
    raw = bytearray()
    for row in pixels:
        raw.append(0)
        for r, g, b, a in row:
            raw.extend((r, g, b, a))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def hex_rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _rounded_rect(x0: float, y0: float, x1: float, y1: float, radius: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        cx = min(max(x, x0 + radius), x1 - radius)
        cy = min(max(y, y0 + radius), y1 - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2

    return inside


def _triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    def side(p: tuple[float, float], q: tuple[float, float], x: float, y: float) -> float:
        return (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1])

    def inside(x: float, y: float) -> bool:
        d1, d2, d3 = side(a, b, x, y), side(b, c, x, y), side(c, a, x, y)
        negative = d1 < 0 or d2 < 0 or d3 < 0
        positive = d1 > 0 or d2 > 0 or d3 > 0
        return not (negative and positive)

    return inside


def _circle(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _bubble(margin: float) -> Shape:
    """The speech bubble, shrunk by `margin` (for the outline's inner edge)."""
    body = _rounded_rect(0.16 + margin, 0.2 + margin, 0.84 - margin, 0.66 - margin, 0.1)
    tail = _triangle(
        (0.3 + margin, 0.6), (0.44 - margin * 1.5, 0.6), (0.26 + margin * 0.5, 0.82 - margin * 2)
    )
    return lambda x, y: body(x, y) or tail(x, y)


def _dots(radius: float) -> list[Shape]:
    return [_circle(cx, 0.43, radius) for cx in (0.34, 0.5, 0.66)]


def _coverage(shape: Shape, px: int, py: int, size: int) -> float:
    hits = 0
    for sy in range(SUPERSAMPLE):
        for sx in range(SUPERSAMPLE):
            x = (px + (sx + 0.5) / SUPERSAMPLE) / size
            y = (py + (sy + 0.5) / SUPERSAMPLE) / size
            hits += shape(x, y)
    return hits / SUPERSAMPLE**2


def color_icon(accent: str, size: int = 192) -> bytes:
    """Full-bleed accent colour, a white bubble, three accent-coloured dots."""
    background = hex_rgb(accent)
    bubble = _bubble(0.0)
    dots = _dots(0.05)

    def white(x: float, y: float) -> bool:
        return bubble(x, y) and not any(d(x, y) for d in dots)

    rows: list[list[Pixel]] = []
    for py in range(size):
        row: list[Pixel] = []
        for px in range(size):
            t = _coverage(white, px, py, size)
            rgb = tuple(round(bg + (w - bg) * t) for bg, w in zip(background, WHITE, strict=True))
            row.append((rgb[0], rgb[1], rgb[2], 255))
        rows.append(row)
    return png(size, size, rows)


def outline_icon(size: int = 32) -> bytes:
    """White bubble outline and dots on a transparent background."""
    outer, inner = _bubble(0.0), _bubble(0.07)
    dots = _dots(0.055)

    def ink(x: float, y: float) -> bool:
        return (outer(x, y) and not inner(x, y)) or any(d(x, y) for d in dots)

    rows = [
        [(*WHITE, round(255 * _coverage(ink, px, py, size))) for px in range(size)]
        for py in range(size)
    ]
    return png(size, size, rows)
