"""Recording an inspected can: turn the engine's result (``core.results.CanResult``) into what the
database records (``db.records.NewInspection``: encoded photos, 16-bit PNG heatmaps, boxes as dicts,
a thumbnail) and record it (``save_inspection``, run in a ``gui.workers`` task).

Photos keep their original file bytes when the operator imported them (no second JPEG loss, and the
record holds exactly what was judged); camera frames are encoded as JPEG at quality 92.

Threading rule: no Qt; these encode images and write files and a database row (tens of
milliseconds or more for a can), so call them off the GUI thread. The station services are
thread-safe (one short transaction per call).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.images import encode_jpeg, stored_extension
from core.images.shrink import shrink
from core.progress import Progress
from core.results import CanResult, heatmap_to_png16
from db.errors import DatabaseBusy, DatabaseUnavailable, ImageStoreUnavailable
from db.records import NewInspection, NewSide

if TYPE_CHECKING:
    from db import Actor, Station
    from db.dto import InspectionInfo

log = logging.getLogger(__name__)

JPEG_QUALITY = 92
THUMBNAIL_SIDE = 256


@dataclass(frozen=True)
class OriginalImage:
    """The bytes of an imported file, kept so that the record stores exactly that file."""

    data: bytes
    ext: str            # "jpg", "png", ...

    @classmethod
    def from_path(cls, path: str | Path) -> OriginalImage | None:
        """The file's bytes, or None for a format the record should not keep as it is."""
        path = Path(path)
        ext = stored_extension(path)
        if ext is None:
            return None
        return cls(path.read_bytes(), ext)


def thumbnail_jpeg(rgb: np.ndarray, side: int = THUMBNAIL_SIDE) -> bytes:
    """A JPEG no larger than ``side`` pixels on its longer edge (for the gallery grid)."""
    small, _ = shrink(rgb, side)
    return encode_jpeg(np.ascontiguousarray(small), quality=85)


def to_new_inspection(result: CanResult, product_id: int, station_name: str,
                      originals: Sequence[OriginalImage | None] = (),
                      capture_key: str | None = None) -> NewInspection:
    """The record of one inspected can. ``originals[i]`` (if given) are side i's file bytes;
    ``capture_key`` is the can's idempotency key (see ``db.records.NewInspection``)."""
    sides = []
    for i, side in enumerate(result.sides):
        original = originals[i] if i < len(originals) else None
        if original is not None:
            image_bytes, ext = original.data, original.ext
        else:
            image_bytes, ext = encode_jpeg(side.image, quality=JPEG_QUALITY), "jpg"
        sides.append(NewSide(
            side_name=side.side,
            image_bytes=image_bytes,
            image_ext=ext,
            heatmap_bytes=heatmap_to_png16(side.heatmap) if side.heatmap is not None else None,
            score=float(side.score),
            label=side.label,
            outcome=side.outcome.value,
            boxes=[b.to_dict() for b in side.boxes],
            reason=side.reason,
            region=side.region.tolist() if side.region is not None else None,
        ))
    # The thumbnail shows the worst side: what a person scanning the gallery needs to see first.
    worst = max(result.sides, key=lambda s: (s.outcome.severity, s.score))
    return NewInspection(
        product_id=product_id,
        station_name=station_name,
        started=result.started,
        finished=result.finished,
        model_name=result.model_name,
        model_version=result.model_version,
        verdict=result.verdict.value,
        sides=sides,
        thumbnail_bytes=thumbnail_jpeg(worst.image),
        capture_key=capture_key,
    )


def save_inspection(progress: Progress, station: Station, actor: Actor, result: CanResult,
                    product_id: int, station_name: str,
                    originals: Sequence[OriginalImage | None],
                    capture_key: str | None = None) -> InspectionInfo:
    """Record ``result`` for ``actor``; returns the ``db.dto.InspectionInfo``. ``capture_key``
    (made when the can's capture started): a can recorded before under the same key is not
    recorded again; the info then has ``already_recorded`` and the first inspection's id."""
    progress.report(0, 2, "Encoding photos and heatmaps")
    new = to_new_inspection(result, product_id, station_name, originals, capture_key)
    progress.report(1, 2, "Writing the inspection")
    info = station.inspections.record(actor, new)
    progress.report(2, 2, "Saved")
    return info


def record_patiently(station: Station, actor: Actor, new: NewInspection, give_up_s: float,
                     pause_s: float = 1.0) -> InspectionInfo:
    """Record ``new``, trying again while the photo store or the database is away, for at most
    ``give_up_s`` seconds from the first try; then the last error is raised, and the caller must
    report the can as not recorded (a person looks at it): a can is never dropped silently.

    With a capture key every retry is safe (the database keeps one row per key: a save whose
    commit did happen before the connection broke comes back ``already_recorded``). Without one
    only the store's outage is tried again: its objects are confirmed before the row is written,
    so nothing of that can was committed."""
    retryable: tuple[type[BaseException], ...] = (ImageStoreUnavailable,)
    if new.capture_key:
        retryable += (DatabaseUnavailable, DatabaseBusy)
    deadline = time.monotonic() + give_up_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return station.inspections.record(actor, new)
        except retryable as exc:
            pause = min(pause_s * attempt, 5.0)
            if time.monotonic() + pause > deadline:
                raise
            if attempt == 1:
                log.warning("can %s not saved yet (%s); trying again for up to %.0f s",
                            new.capture_key or "without a key", exc, give_up_s)
            time.sleep(pause)
