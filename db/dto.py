"""What services return: frozen dataclasses detached from any session.

They hold no ORM objects and no connections, so the GUI may keep them and pass them to any thread.
Datetimes are aware (UTC). Dict fields are fresh copies per call; treat them as read-only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from db.permissions import Role


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: Role
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    must_change_password: bool = False   # an admin asked for a new password at next sign-in


@dataclass(frozen=True)
class WarehouseInfo:
    id: int
    name: str
    location: str
    capacity: int
    notes: str
    stored: int          # cans of all products kept here
    free: int            # capacity - stored


@dataclass(frozen=True)
class ProductInfo:
    id: int
    sku: str
    name: str
    warehouse_id: int
    warehouse_name: str
    quantity: int
    side_names: tuple[str, ...]
    model_id: int | None
    thresholds: dict | None      # {"review": float, "reject": float} overrides, or None
    region_recipe: str | None = None     # JSON of common.regions.RegionRecipe; None: auto
    previous_model_id: int | None = None  # the model a rollback returns to


@dataclass(frozen=True)
class ModelInfo:
    id: int
    name: str
    version: str
    folder: str
    kind: str
    backbone: str
    metrics: dict
    thresholds: dict
    trained_on: dict
    trained_by: str              # user name, or "system" for the bundled model
    created_at: datetime
    product_ids: tuple[int, ...]  # products for which this is the active model
    # revision 0004: the SHA-256 of its weights and of its model.json; published: in the site's
    # photo store, so every station can download it (ModelInfo.folder is then where THIS
    # station has or will have it)
    weights_sha256: str | None = None
    package_sha256: str | None = None
    published: bool = False


@dataclass(frozen=True)
class SideResultInfo:
    id: int
    position: int
    side_name: str
    image_sha256: str
    image_path: Path
    heatmap_sha256: str | None
    heatmap_path: Path | None
    score: float
    label: str                   # the machine's label
    corrected_label: str | None  # the latest correction, if any
    outcome: str
    boxes: list
    reason: str = ""             # why the side went to review (e.g. "no can found"), or ""
    region: list | None = None   # the judged region's outline, [[x, y], ...] in image pixels

    @property
    def final_label(self) -> str:
        return self.corrected_label or self.label


@dataclass(frozen=True)
class InspectionRow:
    """A gallery row: everything but the side results."""

    id: int
    product_id: int
    product_sku: str
    product_name: str
    warehouse_id: int
    warehouse_name: str
    operator_id: int
    operator_name: str
    station_name: str
    started: datetime
    finished: datetime
    day: date
    model_name: str
    model_version: str
    machine_verdict: str
    corrected_verdict: str | None
    verdict: str                 # final: corrected if corrected, else machine
    thumbnail_path: Path | None


@dataclass(frozen=True)
class InspectionInfo(InspectionRow):
    sides: tuple[SideResultInfo, ...] = ()
    # record() only: True when this can's capture key was recorded before, and this is that
    # first inspection (nothing new was stored): the GUI says "already saved as #N".
    already_recorded: bool = False
    capture_key: str | None = None


@dataclass(frozen=True)
class EvaluationInfo:
    """One stored evaluation of a model (``models.record_evaluation``)."""

    id: int
    model_id: int
    created_at: datetime
    user_id: int | None
    username: str                # who ran it ("system" if the account is gone)
    data: dict                   # the engine's evaluation summary, as it was stored
    n_images: int
    n_overlap_training: int      # images of the evaluation that were in the training set
    source: str                  # where the images came from (a folder, "gallery", ...)


@dataclass(frozen=True)
class CorrectionInfo:
    id: int
    inspection_id: int
    side_result_id: int | None   # None: a correction of the whole can
    value: str                   # a label ("Good"/"Anomaly") for a side, a verdict for a can
    note: str
    user_id: int
    username: str
    created_at: datetime


@dataclass(frozen=True)
class LabelledSide:
    """A side image with its training label: the latest correction, else the machine's label."""

    inspection_id: int
    side_result_id: int
    side_name: str
    image_path: Path
    label: str
    corrected: bool
    mask_path: Path | None = None   # the newest mask drawn with a correction (PNG), if any


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    username: str                # "system" for start-up work
    action: str
    target: str
    details: dict


@dataclass(frozen=True)
class VerdictCounts:
    total: int
    passed: int
    review: int
    rejected: int

    @property
    def defect_rate(self) -> float:
        return self.rejected / self.total if self.total else 0.0


@dataclass(frozen=True)
class RateRow:
    """One group of a defect-rate statistic (a day, a product, an operator, a side)."""

    key: object                  # date, product id, operator id or side name
    label: str                   # what to show
    total: int
    review: int
    rejected: int                # for sides: sides labelled Anomaly

    @property
    def defect_rate(self) -> float:
        return self.rejected / self.total if self.total else 0.0


@dataclass(frozen=True)
class StationInfo:
    """A station of the site (``stations.list``)."""

    id: int
    name: str
    host: str
    first_seen: datetime
    last_contact: datetime | None      # aware UTC; None: never heard from (old inspections only)
    product_id: int | None             # of its latest can
    product_sku: str | None
    model_id: int | None               # the model of its latest can
    model_name: str | None
    model_version: str | None
    model_since: datetime | None
    retired: bool
    claimed: bool                      # a running station holds this name (it has an id)


@dataclass(frozen=True)
class DeletionPreview:
    """What a deletion would remove: the inspections (``ids``, to pass on to ``delete_many``)
    and the number of files that no other inspection uses."""

    ids: tuple[int, ...]
    cans: int
    files: int


@dataclass(frozen=True)
class DeletionResult:
    cans: int                    # inspections deleted
    files: int                   # files removed from the data folder


@dataclass(frozen=True)
class HourRow:
    """Cans of one product inspected in one clock hour (for control charts per day or shift).
    For ``side`` rows: sides of that name; ``rejected`` counts sides whose final label is Anomaly,
    ``review`` sides the machine sent to review (as ``per_side``)."""

    product_id: int
    product_label: str           # the SKU
    hour: datetime               # the start of the hour, aware UTC
    total: int
    review: int
    rejected: int
    side: str | None = None


@dataclass(frozen=True)
class CorrectionRow:
    """A correction made in a period, with what the machine had said."""

    inspection_id: int
    product_label: str
    side_name: str | None        # None: the whole can
    machine_value: str           # the machine's label (side) or verdict (can)
    value: str
    note: str
    username: str
    created_at: datetime


@dataclass(frozen=True)
class SignInRow:
    """Who signed in at this station's database during a period."""

    username: str
    role: str
    first: datetime
    last: datetime
    times: int
