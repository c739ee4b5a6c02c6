"""CSV export of filtered inspections, and labelled side images for training.

Both honour the gallery filter (:class:`db.records.GalleryFilter`). The CSV has one line per
inspection, its seven sides as columns; corrected values are given beside the machine's. No cell
runs as a spreadsheet formula (:mod:`db.csv_cells`); a full disk is ``StorageFull`` and leaves
neither the file nor its temporary part behind.
Labels for training are the latest correction where there is one, else the machine's label.

Threading: safe from any thread; the export reads in one read transaction (WAL lets stations keep
writing meanwhile) and streams rows in batches, so memory stays flat for any number of rows.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Result, Select, func, select
from sqlalchemy.orm import Session

from common.atomic import replacing
from common.sides import SIDES_PER_CAN
from db.csv_cells import safe_row
from db.database import Database
from db.dto import LabelledSide
from db.errors import StorageFull, ValidationError, is_disk_full
from db.permissions import Actor
from db.records import LABELS, GalleryFilter
from db.schema import Inspection, SideResult, User
from db.services.filters import apply_sort, effective_filter
from db.services.rows import MASK_EXT, row_query
from db.stores.base import ImageStore

_BATCH = 500
SIDE_COLUMNS = SIDES_PER_CAN
BASE_COLUMNS = ["id", "started_utc", "finished_utc", "day", "station", "product_sku",
                "product_name", "warehouse", "operator", "model", "model_version",
                "machine_verdict", "corrected_verdict", "verdict"]


def csv_header() -> list[str]:
    cols = list(BASE_COLUMNS)
    for n in range(1, SIDE_COLUMNS + 1):
        cols += [f"side{n}_name", f"side{n}_score", f"side{n}_label", f"side{n}_corrected_label",
                 f"side{n}_image_sha256"]
    return cols


class ExportMixin:
    """Mixed into InspectionService (which provides _db, _files, _authorize, _audit)."""

    if TYPE_CHECKING:      # what the service class provides
        _db: Database
        _files: ImageStore

        def _authorize(self, s: Session, actor: Actor, action: str) -> User: ...
        def _audit(self, s: Session, user: User | None, action: str, target: str = "",
                   **details: Any) -> None: ...
        def _where(self, q: Select, f: GalleryFilter, by_day: bool = False) -> Select: ...

    def export_csv(self, actor: Actor, filters: GalleryFilter | None,
                   dest: str | Path | TextIO, sort: str = "started") -> int:
        """Write the filtered inspections as CSV to a file path (written atomically) or an open
        text stream; returns the number of inspections written."""
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.export")
            f = effective_filter(filters, me)
        if isinstance(dest, (str, Path)):
            path = Path(dest)
            with replacing(path, where=path.parent) as tmp:   # whole or not at all
                with open(tmp, "w", newline="", encoding="utf-8") as fh:
                    count = self._write_csv(actor, f, sort, fh)
        else:
            try:
                count = self._write_csv(actor, f, sort, dest)
                dest.flush()
            except OSError as exc:
                if is_disk_full(exc):
                    raise StorageFull(getattr(dest, "name", "the export's destination"),
                                      "write the export") from exc
                raise
        with self._db.write() as s:
            me = self._authorize(s, actor, "inspection.export")
            self._audit(s, me, "inspection.export", "", rows=count, filter=_filter_dict(f))
        return count

    def _write_csv(self, actor: Actor, f: GalleryFilter, sort: str, fh: TextIO | io.StringIO) -> int:
        writer = csv.writer(fh)
        writer.writerow(csv_header())
        count = 0
        with self._db.read() as s:
            self._authorize(s, actor, "inspection.export")
            q = apply_sort(self._where(row_query(), f), sort)
            result = s.execute(q.execution_options(yield_per=_BATCH))
            for batch in self._db.guarded(s, _batches(result)):
                ids = [r[0].id for r in batch]
                sides: dict[int, list[SideResult]] = {}
                for side in s.scalars(select(SideResult).where(SideResult.inspection_id.in_(ids))
                                      .order_by(SideResult.inspection_id, SideResult.position)):
                    sides.setdefault(side.inspection_id, []).append(side)
                for i, sku, pname, wname, uname in batch:
                    line = [i.id, i.started.isoformat(), i.finished.isoformat(),
                            i.day.isoformat(), i.station_name, sku, pname, wname, uname,
                            i.model_name, i.model_version, i.verdict, i.corrected_verdict or "",
                            i.final_verdict]
                    for side in sides.get(i.id, [])[:SIDE_COLUMNS]:
                        line += [side.side_name, f"{side.score:.6g}", side.label,
                                 side.corrected_label or "", side.image_sha]
                    writer.writerow(safe_row(line))
                    count += 1
        return count

    def labelled_sides(self, actor: Actor, filters: GalleryFilter | None = None,
                       side_name: str | None = None,
                       label: str | None = None) -> list[LabelledSide]:
        """(image path, label) for every side of the filtered inspections; a supervisor's
        correction overrides the machine's label. ``label`` keeps only Good or only Anomaly."""
        if label is not None and label not in LABELS:
            raise ValidationError("label", "The label must be Good or Anomaly.")
        final = func.coalesce(SideResult.corrected_label, SideResult.label)
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.training_labels")
            f = effective_filter(filters, me)
            q = select(SideResult.inspection_id, SideResult.id, SideResult.side_name,
                       SideResult.image_sha, SideResult.image_ext, final,
                       SideResult.corrected_label, SideResult.mask_sha)
            q = self._where(q.join(Inspection, SideResult.inspection_id == Inspection.id), f)
            if side_name is not None:
                q = q.where(SideResult.side_name == side_name)
            if label is not None:
                q = q.where(final == label)
            q = q.order_by(SideResult.inspection_id, SideResult.position)
            return [LabelledSide(inspection_id=r[0], side_result_id=r[1], side_name=r[2],
                                 image_path=self._files.path(r[3], r[4]), label=r[5],
                                 corrected=r[6] is not None,
                                 mask_path=self._files.path(r[7], MASK_EXT) if r[7] else None)
                    for r in s.execute(q)]


def _batches(result: Result[Any]) -> Iterator[list]:
    for part in result.partitions(_BATCH):
        yield list(part)


def _filter_dict(f: GalleryFilter) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in vars(f).items() if v is not None}
