"""A faster route for plain JPEGs, byte-identical to Pillow's (``core.images.io`` falls back to Pillow).

Pillow decodes a 640x640 JPEG in about 2 ms and then copies it twice (``exif_transpose``'s copy and
``tobytes`` → array); OpenCV's ``imdecode`` decodes straight into the array the caller gets, with
the same libjpeg-turbo arithmetic (islow DCT, fancy upsampling, the same YCbCr→RGB tables).
Identity with ``load_image``'s Pillow route is proven by ``tests/core/test_fast_decode.py`` on
every photo of the cans data set, on EXIF-rotated, grey and damaged JPEGs; anything this module
is not sure of goes to Pillow:

- only ``JPEG`` (not MPO, whose frames Pillow reads by its own index), YCbCr/RGB or grey, no
  Adobe marker (CMYK and Adobe colour transforms stay with Pillow);
- only one sequential scan whose coded data is intact in form (no marker in it but restarts) and
  that ends with the end-of-image marker: libjpeg merely warns about a damaged stream, OpenCV
  then returns what it decoded (a truncated file padded with grey) where Pillow refuses it;
- any decoder failure (OpenCV returns nothing) or EXIF that cannot be read: Pillow decodes, and
  raises the error the station has always shown.

EXIF orientation is applied as ``PIL.ImageOps.exif_transpose`` does (tag 0x0112, values 2–8, the
same seven transpositions), with numpy's exact flips and transposes.

Thread-safe: pure functions (OpenCV's decoder releases the GIL).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PIL import Image

_EOI = b"\xff\xd9"
_ORIENTATION = 0x0112
# IMREAD_COLOR_RGB is OpenCV >= 4.11; without it, every file takes Pillow's route.
_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)
_READ = None if _RGB is None else _RGB | cv2.IMREAD_IGNORE_ORIENTATION
_SOF_SEQUENTIAL = frozenset({0xC0, 0xC1})           # baseline and extended sequential, Huffman
_SOF_OTHER = frozenset(range(0xC2, 0xD0)) - {0xC4, 0xC8, 0xCC}  # progressive, lossless, arithmetic

# PIL.ImageOps.exif_transpose's table (orientation -> Image.Transpose) as numpy operations on H x W x 3.
_TRANSPOSE: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],                      # FLIP_LEFT_RIGHT
    3: lambda a: a[::-1, ::-1],                   # ROTATE_180
    4: lambda a: a[::-1],                         # FLIP_TOP_BOTTOM
    5: lambda a: a.transpose(1, 0, 2),            # TRANSPOSE
    6: lambda a: np.rot90(a, -1),                 # ROTATE_270 (90° clockwise)
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # TRANSVERSE
    8: lambda a: np.rot90(a, 1),                  # ROTATE_90 (90° counter-clockwise)
}


def fast_jpeg(img: Image.Image, data: bytes) -> np.ndarray | None:
    """``img`` (opened by Pillow, header only) decoded by OpenCV as RGB, oriented as Pillow would;
    None when this route is not proven identical for it, or anything goes wrong (use Pillow)."""
    if _READ is None or img.format != "JPEG" or img.mode not in ("RGB", "L") or "adobe" in img.info:
        return None
    if not _clean_single_scan(data):
        return None
    try:
        orientation = orientation_of(img)
    except Exception:  # noqa: BLE001 - unreadable EXIF: Pillow's route says what is wrong
        return None
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8), _READ)
    if rgb is None or rgb.ndim != 3 or rgb.shape[:2] != (img.size[1], img.size[0]):
        return None
    return oriented(rgb, orientation)


def orientation_of(img: Image.Image) -> Any:
    """The EXIF orientation tag of an image opened by Pillow (1-8 when valid), 1 when it has
    none; read as ``ImageOps.exif_transpose`` reads it (any other value turns nothing)."""
    return img.getexif().get(_ORIENTATION, 1)


def oriented(rgb: np.ndarray, orientation: Any) -> np.ndarray:
    """``rgb`` turned as ``PIL.ImageOps.exif_transpose`` turns an image of that orientation
    (contiguous; the same array when there is nothing to turn)."""
    turn = _TRANSPOSE.get(orientation)
    return rgb if turn is None else np.ascontiguousarray(turn(rgb))


def _clean_single_scan(data: bytes) -> bool:
    """One sequential Huffman scan whose coded data holds no marker but restarts, ended by the
    end-of-image marker. A damaged file (bits flipped, cut, spliced) fails this and goes to Pillow:
    libjpeg only warns about it, and Pillow then refuses some such files that OpenCV would decode."""
    body = data.rstrip(b"\x00")
    if not body.endswith(_EOI) or not body.startswith(b"\xff\xd8"):
        return False
    pos, sof = 2, False
    while True:  # the header's segments, each with its length, up to the start of scan
        while pos < len(body) - 1 and body[pos] == 0xFF and body[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > len(body) or body[pos] != 0xFF:
            return False
        marker, length = body[pos + 1], int.from_bytes(body[pos + 2:pos + 4], "big")
        if marker in _SOF_OTHER or length < 2:
            return False
        sof |= marker in _SOF_SEQUENTIAL
        pos += 2 + length
        if marker == 0xDA:
            break
    coded = np.frombuffer(body, np.uint8, count=len(body) - 2 - pos, offset=pos)
    if not sof or len(coded) == 0 or coded[-1] == 0xFF:
        return False
    after = coded[np.flatnonzero(coded[:-1] == 0xFF) + 1]
    return bool(np.all((after == 0) | ((after >= 0xD0) & (after <= 0xD7))))
