"""Plain input values for the services: what the GUI/CLI hands in (no ORM, no numpy, no torch).

``inspections.record`` refuses inconsistent input: a can verdict milder than its worst side, a
side name the product does not have, bytes that are not the declared image type.

All are frozen dataclasses, so they may be built on one thread and passed to a service on another.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

VERDICTS = ("pass", "review", "reject")
LABELS = ("Good", "Anomaly")


@dataclass(frozen=True)
class NewSide:
    """One side of a can as the engine judged it. ``image_bytes`` is the encoded image (PNG/JPEG),
    ``heatmap_bytes`` the 16-bit PNG of the heatmap (``core.results.heatmap_to_png16``) or None."""

    side_name: str
    image_bytes: bytes
    image_ext: str
    heatmap_bytes: bytes | None
    score: float
    label: str                      # "Good" | "Anomaly"
    outcome: str                    # "pass" | "review" | "reject"
    boxes: list[dict] = field(default_factory=list)   # e.g. {"x0":..,"y0":..,"x1":..,"y1":..,"score":..}
    reason: str = ""                # why the side went to review (e.g. "no can found"), or ""
    region: list[list[int]] | None = None   # the judged region's outline, [[x, y], ...] pixels


@dataclass(frozen=True)
class NewInspection:
    """One inspected can. The operator is the actor who records it; the warehouse is the product's
    warehouse at that moment. Aware datetimes are best; naive ones are taken as UTC."""

    product_id: int
    station_name: str
    started: datetime
    finished: datetime
    model_name: str
    model_version: str
    verdict: str                    # "pass" | "review" | "reject"
    sides: list[NewSide]
    thumbnail_bytes: bytes | None = None
    # Made when the can's capture started (uuid4 text): recording the same key again returns the
    # first inspection and stores nothing (Inspect pressed twice, a retry after a lost commit).
    capture_key: str | None = None


@dataclass(frozen=True)
class GalleryFilter:
    """Filters shared by the gallery, its count, the CSV export, training labels and statistics.

    ``date_from``/``date_to`` are inclusive calendar days (the station's local day of ``started``).
    ``verdict`` matches the final verdict (the latest correction if there is one, else the machine's).
    For operators ``operator_id`` is forced to their own id.
    """

    product_id: int | None = None
    warehouse_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    verdict: str | None = None
    operator_id: int | None = None
