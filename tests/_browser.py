"""A real browser for the tests of pages: Debian's headless Chromium, its DOM after load and a
screenshot, and a check that a PNG is not one flat colour."""

from __future__ import annotations

import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from tests._system import require


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    executable = require("chromium-headless-shell", "chromium-headless-shell")
    profile = tempfile.mkdtemp(prefix="mm-chromium-")
    return subprocess.run(
        [
            executable,
            "--no-sandbox",  # the tests may run as root, where the sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rendered_dom(page: Path) -> str:
    """The page's DOM as Chromium serialises it after loading ``page``."""
    done = _chromium("--dump-dom", page.resolve().as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, png: Path, size: str = "1400,2200") -> bytes:
    done = _chromium(f"--screenshot={png}", f"--window-size={size}", page.resolve().as_uri())
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png.read_bytes()


def distinct_colours(png: bytes, limit: int = 64) -> int:
    """How many distinct pixel values (up to ``limit``) an 8-bit RGB(A) PNG holds: a page that
    drew nothing is one or two."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], b""
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        data = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            chunks.append(data)
        position += 12 + length
    width, _height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels + 1  # each row starts with its filter byte
    seen: set[bytes] = set()
    previous = bytearray(stride - 1)
    for start in range(0, len(raw), stride):
        kind, row = raw[start], bytearray(raw[start + 1 : start + stride])
        for i in range(len(row)):  # undo the row filter (PNG spec, section 9)
            left = row[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                row[i] = (row[i] + guess) & 0xFF
        for x in range(0, len(row), channels * 7):  # every 7th pixel is plenty
            seen.add(bytes(row[x : x + channels]))
            if len(seen) >= limit:
                return limit
        previous = row
    return len(seen)
