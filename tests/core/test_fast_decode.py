"""The fast JPEG route of ``load_image`` gives byte for byte what the Pillow route gave (issue 12).

The reference is ``load_image`` as it was before the fast route, kept here: Pillow opens and
loads, ``ImageOps.exif_transpose``, then the same RGB conversion. Every case compares arrays
exactly, or the same ``UnreadableImage`` reason.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from core.errors import UnreadableImage
from core.images import io as image_io
from core.images import load_image
from core.images.fast_jpeg import fast_jpeg

CANS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "cans"
CANS = CANS if CANS.is_dir() else Path("/work/shared/datasets/cans")


def reference(data: bytes) -> np.ndarray:
    """``load_image``'s decoding before issue 12 (Pillow + exif_transpose + RGB)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(data))
        with img:
            img.load()
            return image_io._to_rgb(ImageOps.exif_transpose(img))


def outcome(fn, data: bytes):
    try:
        return fn(data)
    except UnreadableImage as exc:
        return ("refused", exc.reason)
    except Exception as exc:  # noqa: BLE001 - the reference raises Pillow's own errors
        return ("refused", type(exc).__name__)


def same(a, b) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return isinstance(a, tuple) and isinstance(b, tuple)   # both refused


def _photos() -> list[Path]:
    paths = sorted(p for p in CANS.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    assert len(paths) >= 200, f"the cans data set is missing at {CANS}"
    return paths


def _saved(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_every_cans_photo_decodes_identically_and_takes_the_fast_route():
    for path in _photos():
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as img:
            assert fast_jpeg(img, data) is not None, path   # the route is really taken
        out = load_image(path)
        ref = reference(data)
        assert out.flags.c_contiguous and out.flags.writeable and out.flags.owndata
        assert out.dtype == ref.dtype and np.array_equal(out, ref), path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_rotated_jpegs_match_pillow(orientation):
    photo = Image.open(_photos()[0]).crop((0, 0, 320, 200))   # not square: turns show
    exif = photo.getexif()
    exif[0x0112] = orientation
    data = _saved(photo, "JPEG", quality=90, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as img:
        assert fast_jpeg(img, data) is not None
    out, ref = load_image(data), reference(data)
    assert out.shape == ref.shape and np.array_equal(out, ref)
    assert out.shape[:2] == ((320, 200) if orientation >= 5 else (200, 320))


def _inputs() -> dict[str, bytes]:
    photo = Image.open(_photos()[1]).convert("RGB").resize((96, 64))
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    ramp = (np.arange(96 * 64, dtype=np.uint32).reshape(64, 96) * 10).astype(np.uint16)
    palette = photo.quantize(16)
    transparent = palette.copy()
    transparent.info["transparency"] = 3
    return {
        "grey jpeg": _saved(photo.convert("L"), "JPEG", quality=90),
        "cmyk jpeg": _saved(photo.convert("CMYK"), "JPEG", quality=90),
        "progressive jpeg": _saved(photo, "JPEG", quality=85, progressive=True),
        "4:4:4 jpeg": _saved(photo, "JPEG", quality=95, subsampling=0),
        "jpeg with bytes after the end": _saved(photo, "JPEG") + b"trailing",
        "jpeg padded with zeros": _saved(photo, "JPEG") + b"\x00" * 64,
        "16-bit png": _saved(Image.fromarray(ramp), "PNG"),
        "palette png": _saved(palette, "PNG"),
        "palette png with transparency": _saved(transparent, "PNG"),
        "rgba png": _saved(rgba, "PNG"),
        "rgb png": _saved(photo, "PNG"),
        "truncated jpeg": _saved(photo, "JPEG")[:-300],
        "jpeg cut just before its end marker": _saved(photo, "JPEG")[:-2],
    }


@pytest.mark.parametrize("name", sorted(_inputs()))
def test_other_kinds_of_input_match_pillow(name):
    data = _inputs()[name]
    out, ref = outcome(load_image, data), outcome(reference, data)
    assert same(out, ref), name
    if "truncated" in name or "cut" in name:
        assert isinstance(out, tuple) and "truncated" in out[1]


def test_damaged_jpegs_are_refused_or_decoded_exactly_as_pillow_does():
    """Seeded mutations of real photos (bits flipped, bytes overwritten, cut, spliced, repeated)."""
    rng = np.random.default_rng(12)
    photos = [p.read_bytes() for p in _photos()[:8]]
    decoded = refused = 0
    for i in range(300):
        raw = bytearray(photos[i % len(photos)])
        op = i % 5
        if op == 0:
            for pos in rng.integers(600, len(raw) - 2, int(rng.integers(1, 20))):
                raw[pos] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:
            at = int(rng.integers(0, len(raw) - 64))
            raw[at:at + 32] = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
        elif op == 2:
            raw = raw[:int(rng.integers(1, len(raw)))]
        elif op == 3:
            other = photos[(i + 1) % len(photos)]
            cut = int(rng.integers(1, min(len(raw), len(other))))
            raw = raw[:cut] + other[cut:]
        else:
            at = int(rng.integers(0, len(raw) - 600))
            raw = raw[:at] + raw[at:at + 300] * 3 + raw[at:]
        data = bytes(raw)
        out, ref = outcome(load_image, data), outcome(reference, data)
        assert same(out, ref), (i, op)
        decoded += isinstance(out, np.ndarray)
        refused += isinstance(out, tuple)
    assert decoded > 50 and refused > 20   # both kinds of outcome were exercised
