"""Which images a model saw: SHA-256 fingerprints of image files, packed compactly for model.json.

Training records the fingerprint of every training and validation image (``trained_on_record``,
stored as ``trained_on["image_sha256"]``); an evaluation counts how many of its images the model saw
(``count_seen``), so that figures measured on training images are never mistaken for figures on new
ones. A fingerprint is the first ``DIGEST_BYTES`` bytes of the SHA-256 of the file's bytes, the same
hash the station's file store names images by (``db.filestore``): an image of the gallery and the file
it came from match; a re-encoded copy of a photo does not. Eight bytes keep a thousand images in
about 11 kB of JSON; a chance collision among a million images has a probability below 1e-7.

Pure functions, safe on any thread.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

DIGEST_BYTES = 8
RECORD_KEY = "image_sha256"
RULE = (f"first {DIGEST_BYTES} bytes of the SHA-256 of each image file (training and validation), "
        "sorted, concatenated, base64")


def image_digest(source: str | Path | bytes | bytearray | np.ndarray) -> bytes:
    """Fingerprint of one image: its file's bytes, encoded bytes as given, or an array's pixels."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, np.ndarray):
        data = repr((source.shape, str(source.dtype))).encode() + np.ascontiguousarray(source).tobytes()
    else:
        data = Path(source).read_bytes()
    return hashlib.sha256(data).digest()[:DIGEST_BYTES]


def pack(digests: Iterable[bytes]) -> str:
    return base64.b64encode(b"".join(sorted(set(digests)))).decode("ascii")


def unpack(text: str) -> set[bytes]:
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) % DIGEST_BYTES:
        raise ValueError("image fingerprints are not a whole number of digests")
    return {raw[i:i + DIGEST_BYTES] for i in range(0, len(raw), DIGEST_BYTES)}


def trained_on_record(sources: Iterable) -> dict:
    """The ``trained_on["image_sha256"]`` entry for the images a model was trained and calibrated on."""
    digests = {image_digest(s) for s in sources}
    return {"rule": RULE, "count": len(digests), "digests": pack(digests)}


def seen_digests(trained_on: dict) -> set[bytes] | None:
    """The fingerprints a model records, or None when it records none (older models)."""
    record = trained_on.get(RECORD_KEY) if isinstance(trained_on, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("digests"), str):
        return None
    try:
        return unpack(record["digests"])
    except ValueError:
        return None


def count_seen(trained_on: dict, digests: Iterable[bytes]) -> int | None:
    """How many of ``digests`` the model was trained or calibrated on; None when it cannot tell."""
    seen = seen_digests(trained_on)
    if seen is None:
        return None
    return sum(1 for d in digests if d in seen)
