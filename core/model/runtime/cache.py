"""Where exported networks are kept, and whether one still belongs to the model's weights.

A model folder's export lives in ``<model>/runtime-cache/`` (``network.onnx`` and
``network.json``); a read-only model folder (a bundled model) uses ``<data>/cache/runtime/<sha>/``
instead. ``network.json`` records the SHA-256 of the weights it was exported from and of the ONNX
file itself, the parity of each runtime against torch and which runtime measured fastest. An
export whose weights hash differs from the model's current weights, or whose ONNX file does not
match its own hash, is ignored (and replaced at the next export).

No torch. Thread-safe: files are written whole (temporary name, fsync, rename).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.atomic import write_bytes, write_text
from common.files import open_regular
from core.model.io import file_sha256
from core.model.spec import WEIGHTS_FILE

log = logging.getLogger(__name__)

CACHE_DIR = "runtime-cache"
ONNX_FILE = "network.onnx"
META_FILE = "network.json"
FORMAT = 1
MAX_ONNX_BYTES = 1 << 30    # the largest station network is ~60 MB
MAX_META_BYTES = 1 << 20


@dataclass(frozen=True)
class Exported:
    """A valid export on disk: its folder and what ``network.json`` says."""

    folder: Path
    meta: dict[str, Any]

    @property
    def onnx(self) -> Path:
        return self.folder / ONNX_FILE

    def parity(self, runtime: str) -> dict[str, Any] | None:
        entry = self.meta.get("runtimes", {}).get(runtime)
        return entry if isinstance(entry, dict) else None

    def passed(self, runtime: str) -> bool:
        entry = self.parity(runtime)
        return bool(entry and entry.get("ok"))


def weights_sha256(model_folder: Path, limit: int = 1 << 31) -> str:
    """SHA-256 of the model's weights file (``OSError`` etc. if it cannot be read)."""
    with open_regular(model_folder / WEIGHTS_FILE, limit) as (fh, _size):
        return file_sha256(fh)


def locations(model_folder: Path, sha: str, cache_root: Path | None) -> list[Path]:
    """Where an export of these weights may be, in the order they are tried."""
    places = [model_folder / CACHE_DIR]
    if cache_root is not None:
        places.append(cache_root / sha)
    return places


def find(model_folder: Path, sha: str, cache_root: Path | None) -> Exported | None:
    """The first valid export of weights ``sha`` (see the module's docstring), or None."""
    for place in locations(model_folder, sha, cache_root):
        found = _valid(place, sha)
        if found is not None:
            return found
    return None


def _valid(place: Path, sha: str) -> Exported | None:
    try:
        with open_regular(place / META_FILE, MAX_META_BYTES) as (fh, _size):
            meta = json.loads(fh.read())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    if meta.get("weights_sha256") != sha:
        log.info("the export in %s was made from other weights: ignored", place)
        return None
    try:
        with open_regular(place / ONNX_FILE, MAX_ONNX_BYTES) as (fh, _size):
            if file_sha256(fh) != meta.get("onnx_sha256"):
                log.warning("%s does not match its recorded hash: ignored", place / ONNX_FILE)
                return None
    except (OSError, ValueError):
        return None
    return Exported(place, meta)


def writable_place(model_folder: Path, sha: str, cache_root: Path | None) -> Path | None:
    """The model's own cache folder if it can be written, else the data folder's; None if neither."""
    for place in locations(model_folder, sha, cache_root):
        try:
            place.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(place, os.W_OK):
            return place
    return None


def write(place: Path, onnx_bytes: bytes, meta: dict[str, Any]) -> Exported:
    """Store an export: the ONNX file first, then ``network.json`` (which makes it valid)."""
    import hashlib

    meta = dict(meta, format=FORMAT, onnx_sha256=hashlib.sha256(onnx_bytes).hexdigest())
    write_bytes(place / ONNX_FILE, onnx_bytes)
    write_text(place / META_FILE, json.dumps(meta, indent=2))
    return Exported(place, meta)
