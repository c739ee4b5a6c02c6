"""Saving an inspected can: a plain function run in a ``gui.workers`` task (it encodes photos and
writes files and a database row, tens of milliseconds or more: never on the GUI thread).

Threading rule: no Qt; the station services are thread-safe (one short transaction per call).
"""
from __future__ import annotations

from typing import Any, Sequence

from core.progress import Progress
from core.results import CanResult
from app.recording import OriginalImage, to_new_inspection


def save_inspection(progress: Progress, station: Any, actor: Any, result: CanResult,
                    product_id: int, station_name: str,
                    originals: Sequence[OriginalImage | None],
                    capture_key: str | None = None) -> Any:
    """Record ``result`` for ``actor``; returns the ``db.dto.InspectionInfo``. ``capture_key``
    (made when the can's capture started): a can recorded before under the same key is not
    recorded again; the info then has ``already_recorded`` and the first inspection's id."""
    progress.report(0, 2, "Encoding photos and heatmaps")
    new = to_new_inspection(result, product_id, station_name, originals, capture_key)
    progress.report(1, 2, "Writing the inspection")
    info = station.inspections.record(actor, new)
    progress.report(2, 2, "Saved")
    return info
