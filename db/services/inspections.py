"""Inspections: record one can (seven side results and their files), read it back, browse the
gallery, delete; CSV export and training labels are in :mod:`db.services.inspection_export`.

Rules: everyone records (``inspection.record``) and sees their own inspections; supervisors and
admins see everyone's (``inspection.view_all``); admins delete (``inspection.delete``), one can or
a filtered set, always with a reason that each can's audit event keeps. The
operator is the signed-in actor, the warehouse the product's warehouse at that moment (kept on the
row: moving the product later does not rewrite history).

Recording refuses inconsistent input (a can verdict milder than its worst side, side names the
product does not have, bytes that are not the declared image type) and is idempotent by the
can's capture key (unique in the table): the same key twice keeps one record.

Files: written (fsynced, renamed; or uploaded and confirmed by an object store) BEFORE the row
commits; if the commit fails, the files this call created are removed at once, and a crash in
between leaves files that the start-up sweep removes. With a shared object store the files are
journalled first (:mod:`db.services.pending`), so the sweep needs no listing and never takes a
file another station is still writing. Deleting removes the files after the delete commits,
unless another row uses the same content. Each inspection records the station that recorded it
(``Station.open(..., station_name=...)``), whose row also keeps its last contact and the
product and model of its latest can.

Threading: every method is safe to call from any thread (short transactions; files are written
outside them so a slow disk does not hold the database's write lock).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import rollup
from db.database import Database, to_naive_utc
from db.dto import InspectionInfo, InspectionRow
from db.errors import Conflict, DatabaseUnavailable, PermissionDenied, StationDataError, ValidationError
from db.filestore import canonical_ext, sniff_ext
from db.permissions import Actor, Role, allowed
from db.records import GalleryFilter, NewInspection
from db.schema import Inspection, Model, Product, SideResult, SiteStation, User
from db.services import pending
from db.services._base import Service
from db.services.filters import effective_filter, page_ids
from db.services.inspection_delete import DeleteMixin
from db.services.inspection_export import ExportMixin
from db.services.record_checks import check_capture_key, validate_new
from db.services.rows import HEATMAP_EXT, referenced_shas, row_fields, row_query, side_info, station_day
from db.stores.base import ImageStore

MAX_PAGE = 1000


class InspectionService(ExportMixin, DeleteMixin, Service):
    def __init__(self, db: Database, files: ImageStore,
                 station_id: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(db)
        self._files = files
        self._station_id = station_id

    # -- recording -------------------------------------------------------------------------
    def record(self, actor: Actor, new: NewInspection) -> InspectionInfo:
        """Store one inspected can; returns it. With ``new.capture_key``, a key recorded before
        returns that first inspection with ``already_recorded=True`` and stores nothing, also
        when two calls race or a retry follows a commit whose answer was lost."""
        key = check_capture_key(new.capture_key)
        with self._db.read() as s:   # refuse before any file is written
            me = self._authorize(s, actor, "inspection.record")
            product = self._get(s, Product, new.product_id, "Product")
            side_names = tuple(product.side_names)
            if key is not None and (first := self._by_key(s, me, key)) is not None:
                return first
        validate_new(new, side_names)
        items = _items(new)
        files = [(hashlib.sha256(data).hexdigest(), ext) for data, ext in items] \
            if self._files.shared else []
        created: list[tuple[str, str]] = []
        journal: list[int] = []
        try:
            if self._files.shared:   # before any upload, so no sweep takes them meanwhile
                journal = pending.journal(self._db, files, self._station_id())
            info = self._write(actor, new, key, items, created, journal)
        except (Conflict, DatabaseUnavailable) as exc:
            # A race on the key (Conflict), or the connection broke at the commit: did the row
            # make it? The key says so without doubt.
            first = self._find_after_failure(actor, key)
            self._clean_up(created, journal, files)   # a no-op for files the found row uses
            if first is None:
                raise
            if isinstance(exc, DatabaseUnavailable):
                # Our own commit went through; only its answer was lost.
                first = replace(first, already_recorded=False)
            return first
        except BaseException:
            self._clean_up(created, journal, files)
            raise
        return info

    def _write(self, actor: Actor, new: NewInspection, key: str | None,
               items: list[tuple[bytes, str]], created: list[tuple[str, str]],
               journal: list[int]) -> InspectionInfo:
        if self._files.shared:   # uploaded side by side; the journal covers a failure
            shas = [sha for sha, _ in self._files.put_many(items)]
        else:                    # one by one, so ``created`` names every file written so far
            shas = [self._put(data, ext, created) for data, ext in items]
        side_files, n = [], 0
        for side in new.sides:
            image_sha, ext = shas[n], items[n][1]
            n += 1
            heat_sha = None
            if side.heatmap_bytes is not None:
                heat_sha, n = shas[n], n + 1
            side_files.append((image_sha, ext, heat_sha))
        thumb = (shas[n], items[n][1]) if new.thumbnail_bytes else None
        with self._db.write() as s:
            me = self._authorize(s, actor, "inspection.record")
            product = self._get(s, Product, new.product_id, "Product")
            started = to_naive_utc(new.started)
            row = Inspection(
                product_id=product.id, warehouse_id=product.warehouse_id, operator_id=me.id,
                station_name=new.station_name.strip(), started=started,
                finished=to_naive_utc(new.finished), day=station_day(new.started),
                model_name=new.model_name, model_version=new.model_version,
                verdict=new.verdict, corrected_verdict=None, final_verdict=new.verdict,
                thumbnail_sha=thumb[0] if thumb else None,
                thumbnail_ext=thumb[1] if thumb else None, capture_key=key)
            row.sides = [SideResult(position=n, side_name=side.side_name.strip(),
                                    image_sha=f[0], image_ext=f[1], heatmap_sha=f[2],
                                    score=float(side.score), label=side.label,
                                    outcome=side.outcome, boxes=list(side.boxes),
                                    reason=side.reason.strip(),
                                    region=[list(p) for p in side.region]
                                    if side.region is not None else None)
                         for n, (side, f) in enumerate(zip(new.sides, side_files))]
            row.station_id = self._station_id()
            s.add(row)
            self._note_station(s, row)
            if journal:
                pending.clear(s, journal)
            s.flush()
            rollup.count_new(s, row)
            return InspectionInfo(
                **row_fields(self._files, row, product.sku, product.name,
                              product.warehouse.name, me.username),
                sides=tuple(side_info(self._files, r) for r in row.sides), capture_key=key)

    def _by_key(self, s: Session, me: User, key: str) -> InspectionInfo | None:
        found = s.execute(row_query().where(Inspection.capture_key == key)).first()
        if found is None:
            return None
        i = found[0]
        self._check_may_see(me, i)
        return InspectionInfo(**row_fields(self._files, *found),
                              sides=tuple(side_info(self._files, r) for r in i.sides),
                              already_recorded=True, capture_key=key)

    def _find_after_failure(self, actor: Actor, key: str | None) -> InspectionInfo | None:
        """After a failed write: the row with ``key`` if it is there (a new connection; the
        broken one was discarded). None when there is no key, no row, or still no database."""
        if key is None:
            return None
        try:
            with self._db.read() as s:
                me = self._authorize(s, actor, "inspection.record")
                return self._by_key(s, me, key)
        except StationDataError:
            return None

    def _put(self, data: bytes, ext: str, created: list[tuple[str, str]]) -> str:
        sha, new_file = self._files.put(data, ext)
        if new_file:
            created.append((sha, ext))
        return sha

    def _note_station(self, s: Session, row: Inspection) -> None:
        """The recording station's last contact, and the product and model it runs now."""
        if row.station_id is None:
            return
        me = s.get(SiteStation, row.station_id)
        if me is None:
            return
        model_id = s.scalar(select(Model.id).where(Model.name == row.model_name,
                                                   Model.version == row.model_version))
        now = self._db.now_naive()
        me.last_contact, me.product_id = now, row.product_id
        if model_id is not None and me.model_id != model_id:
            me.model_id, me.model_since = model_id, now

    def _clean_up(self, created: list[tuple[str, str]], journal: Sequence[int],
                  files: Sequence[tuple[str, str]]) -> None:
        if journal:
            pending.discard(self._db, self._files, journal, files)
        else:
            self._discard(created)

    def _discard(self, created: list[tuple[str, str]]) -> None:
        """Remove the files a failed ``record`` created, unless a row uses them meanwhile."""
        if not created:
            return
        try:
            with self._db.read() as s:
                used = referenced_shas(s, {sha for sha, _ in created})
        except Exception:  # noqa: BLE001 - the database is failing: leave them to the sweep
            return
        for sha, ext in created:
            if sha not in used:
                self._files.remove(sha, ext)

    # -- reading ---------------------------------------------------------------------------
    def get(self, actor: Actor, inspection_id: int) -> InspectionInfo:
        """One inspection with its side results (absolute file paths)."""
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.view_own")
            found = s.execute(row_query().where(Inspection.id == inspection_id)).first()
            if found is None:
                self._get(s, Inspection, inspection_id, "Inspection")   # raises NotFound
                raise AssertionError("unreachable: _get raised NotFound")
            i = found[0]
            self._check_may_see(me, i)
            return InspectionInfo(**row_fields(self._files, *found),
                                  sides=tuple(side_info(self._files, r) for r in i.sides),
                                  capture_key=i.capture_key)

    def page(self, actor: Actor, filters: GalleryFilter | None = None, sort: str = "-started",
             offset: int = 0, limit: int = 50) -> list[InspectionRow]:
        """One page of the gallery; operators get only their own inspections."""
        if not (0 <= offset and 0 < limit <= MAX_PAGE):
            raise ValidationError("limit", f"Pages hold 1 to {MAX_PAGE} rows.")
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.view_own")
            f = effective_filter(filters, me)
            # Two steps: pick the page's ids from inspections alone, so the planner walks an
            # index in sort order (joined first, SQLite starts from the small product table and
            # sorts every match), then fetch those rows with their names.
            ids = page_ids(s, f, sort, offset, limit, self._where)
            if not ids:
                return []
            found = {r[0].id: r for r in s.execute(row_query().where(Inspection.id.in_(ids)))}
            return [InspectionRow(**row_fields(self._files, *found[i])) for i in ids
                    if i in found]

    def count(self, actor: Actor, filters: GalleryFilter | None = None) -> int:
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.view_own")
            f = effective_filter(filters, me)
            q = self._where(select(func.count(Inspection.id)), f)
            return int(s.execute(q).scalar_one())

    @staticmethod
    def _check_may_see(me: User, i: Inspection) -> None:
        if i.operator_id != me.id and not allowed(Role(me.role), "inspection.view_all"):
            raise PermissionDenied("inspection.view_all",
                                   "Operators can only open their own inspections.")


def _items(new: NewInspection) -> list[tuple[bytes, str]]:
    """The files of a can, in order: per side its photo, then its heatmap if any; the thumbnail."""
    items: list[tuple[bytes, str]] = []
    for side in new.sides:
        items.append((side.image_bytes, canonical_ext(side.image_ext)))
        if side.heatmap_bytes is not None:
            items.append((side.heatmap_bytes, HEATMAP_EXT))
    if new.thumbnail_bytes:
        items.append((new.thumbnail_bytes, sniff_ext(new.thumbnail_bytes)))
    return items
