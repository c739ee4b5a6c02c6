"""Reading one inspection for display: its record, its seven photos and heatmaps, its corrections.

No widgets here: ``load_detail`` runs in a worker (decoding seven photos and heatmaps takes tens
of milliseconds to seconds) and returns numpy arrays; the dialog builds pixmaps on the GUI thread.

Threading: ``load_detail`` may run on any thread (the services are thread-safe).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common.errors import PersonFacingError
from core.images import load_image
from core.progress import Progress
from core.results import Box, heatmap_from_png16
from db.dto import CorrectionInfo, InspectionInfo, SideResultInfo

if TYPE_CHECKING:
    from db import Actor, Station
    from db.stores import ImageStore


@dataclass(frozen=True)
class SideView:
    info: SideResultInfo
    image: np.ndarray | None        # RGB, None when the file is missing or unreadable
    heatmap: np.ndarray | None      # normalised, None when not stored or unreadable
    boxes: tuple[Box, ...]
    problem: str = ""               # why the photo or heatmap could not be shown


@dataclass(frozen=True)
class Detail:
    inspection: InspectionInfo
    sides: tuple[SideView, ...]
    corrections: tuple[CorrectionInfo, ...]


def boxes_of(side: SideResultInfo) -> tuple[Box, ...]:
    out = []
    for b in side.boxes or ():
        try:
            out.append(Box(int(b["x0"]), int(b["y0"]), int(b["x1"]), int(b["y1"]),
                           float(b.get("score", 0.0))))
        except (KeyError, TypeError, ValueError):
            continue            # a malformed box is skipped, the photo still shows
    return tuple(out)


def read_side(side: SideResultInfo, files: ImageStore | None = None) -> SideView:
    """The photo and heatmap of one side; a missing file becomes a message, not an error.
    ``files`` (the station's photo store) fetches what another station recorded; an
    unreachable store is such a message too."""
    problems = []
    image = heat = None
    try:
        image = load_image(files.fetch(side.image_path) if files else Path(side.image_path))
    except Exception as exc:  # noqa: BLE001 - shown beside the side instead of the photo
        problems.append(f"photo: {exc}")
    if side.heatmap_path is not None:
        try:
            heat = heatmap_from_png16(files.read(side.heatmap_path) if files
                                      else Path(side.heatmap_path).read_bytes())
        except (OSError, ValueError, PersonFacingError) as exc:
            problems.append(f"heatmap: {exc}")
    return SideView(side, image, heat, boxes_of(side), "; ".join(problems))


def load_detail(progress: Progress, station: Station, actor: Actor, inspection_id: int) -> Detail:
    """Worker side: the inspection, every side decoded, and its corrections."""
    info = station.inspections.get(actor, inspection_id)
    sides = []
    for i, side in enumerate(info.sides):
        progress.check()
        sides.append(read_side(side, station.files))
        progress.report(i + 1, len(info.sides), side.side_name)
    corrections = station.corrections.list_for_inspection(actor, inspection_id)
    return Detail(info, tuple(sides), tuple(corrections))
