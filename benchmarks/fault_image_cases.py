"""The malformed images ``faults_engine`` feeds ``load_image``: mutations of real photos, special files.

Deterministic for a seed (numpy's generator). Cases are generated lazily, one at a time, so the
memory they take is one photo.
"""
from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.special_files import hostile_files


def hostile_paths(folder: Path, name: str, head: bytes) -> dict[str, Path]:
    return hostile_files(folder, name, head=head)


# -- images ----------------------------------------------------------------------------------------
def _reencoded(data: bytes) -> dict[str, bytes]:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    out = {}
    for fmt in ("PNG", "TIFF", "BMP"):
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        out[fmt] = buf.getvalue()
    return out


def _inflate_jpeg_size(data: bytearray) -> bytearray:
    """Claim 65 500 x 65 500 pixels in the frame header (a decompression bomb from the header)."""
    for marker in (b"\xff\xc0", b"\xff\xc2", b"\xff\xc1"):
        at = data.find(marker)
        if at >= 0 and at + 9 <= len(data):
            data[at + 5:at + 9] = struct.pack(">HH", 65500, 65500)
            return data
    return data


def _mutate(rng: np.random.Generator, data: bytes, others: dict[str, bytes]) -> tuple[str, bytes]:
    raw = bytearray(data)
    op = str(rng.choice(["flip", "flip-header", "overwrite", "truncate", "bomb", "splice", "repeat",
                         "garbage", "insert"]))
    if op in ("flip", "flip-header"):
        top = len(raw) if op == "flip" else min(len(raw), 1024)
        for pos in rng.integers(0, top, int(rng.integers(1, 65))):
            raw[pos] ^= 1 << int(rng.integers(0, 8))
    elif op == "overwrite":
        start = int(rng.integers(0, min(len(raw), 2048)))
        chunk = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
        raw[start:start + len(chunk)] = chunk
    elif op == "truncate":
        raw = raw[:int(rng.integers(0, len(raw)))]
    elif op == "bomb":
        raw = _inflate_jpeg_size(raw)
    elif op == "splice":
        other = others[str(rng.choice(sorted(others)))]
        cut = int(rng.integers(1, min(len(raw), len(other))))
        raw = bytearray(other[:cut]) + raw[cut:] if rng.random() < 0.5 else raw[:cut] + other[cut:]
    elif op == "repeat":
        start = int(rng.integers(0, len(raw) - 1))
        piece = raw[start:start + int(rng.integers(1, 512))]
        raw = raw[:start] + piece * int(rng.integers(2, 200)) + raw[start:]
    elif op == "garbage":
        raw = raw[:int(rng.integers(0, 16))] + rng.integers(0, 256, int(rng.integers(0, 5000)),
                                                               dtype=np.uint8).tobytes()
    else:
        at = int(rng.integers(0, len(raw)))
        raw = raw[:at] + rng.integers(0, 256, int(rng.integers(1, 256)), dtype=np.uint8).tobytes() + raw[at:]
    return op, bytes(raw)


def image_cases(n: int, sources: list[Path], special: dict[str, Path],
                seed: int = 0) -> Iterator[tuple[str, tuple[str, Any]]]:
    """``(label, (kind, value))``: kind ``bytes`` (value: bytes), ``file`` (bytes to write to a
    file first) or ``path`` (a special file's path)."""
    rng = np.random.default_rng(seed)
    kinds = sorted(special)
    for i in range(n):
        if i % 11 == 0:  # one case in eleven: a special file, each kind in turn
            kind = kinds[(i // 11) % len(kinds)]
            yield f"special:{kind}", ("path", str(special[kind]))
            continue
        photo = sources[int(rng.integers(0, len(sources)))].read_bytes()
        others = _reencoded(photo) if rng.random() < 0.3 else {"JPEG": photo}
        fmt = str(rng.choice(sorted(others))) if rng.random() < 0.5 else "JPEG"
        base = others.get(fmt, photo)
        op, data = _mutate(rng, base, others | {"JPEG": photo})
        yield f"{fmt.lower()}:{op}", ("file" if rng.random() < 0.25 else "bytes", data)
