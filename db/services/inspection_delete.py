"""Deleting inspections (admins, ``inspection.delete``): a preview of what would go, then exactly
those cans, in batches, each with the admin's reason in its audit event.

Files are removed after the delete commits, unless another row uses the same content; the folders
are touched first (a shared object store: the files are journalled in the delete's transaction)
so that a crash in between leaves work for the sweep, not orphans.

Threading: safe from any thread (short transactions, one per batch).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db import rollup
from db.dto import DeletionPreview, DeletionResult
from db.permissions import Actor
from db.records import GalleryFilter
from db.schema import Inspection, SideResult, User
from db.services import pending
from db.services._base import clean_text
from db.services.filters import effective_filter
from db.services.rows import HEATMAP_EXT, MASK_EXT, referenced_shas

if TYPE_CHECKING:
    from db.database import Database
    from db.stores.base import ImageStore

DELETE_BATCH = 200


class DeleteMixin:
    """Mixed into InspectionService (which provides _db, _files, _authorize, _audit, _where,
    _get)."""

    if TYPE_CHECKING:      # what the service class provides
        _db: Database
        _files: ImageStore
        _station_id: Callable[[], int | None]

        def _authorize(self, s: Session, actor: Actor, action: str) -> User: ...
        def _audit(self, s: Session, user: User | None, action: str, target: str = "",
                   **details: Any) -> None: ...
        def _where(self, q: Select, f: GalleryFilter, by_day: bool = False) -> Select: ...
        @staticmethod
        def _get(s: Session, cls: type, key: int, what: str, lock: bool = False) -> Any: ...

    def deletion_preview(self, actor: Actor, filters: GalleryFilter | None = None,
                         ids: Sequence[int] | None = None) -> DeletionPreview:
        """What deleting the filtered set (or exactly ``ids``) would remove: the cans, and the
        files no other inspection uses. Nothing changes; pass ``preview.ids`` to
        :meth:`delete_many` so that exactly what was confirmed is deleted."""
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.delete")
            if ids is None:
                q = self._where(select(Inspection.id), effective_filter(filters, me))
                chosen = tuple(s.scalars(q.order_by(Inspection.id)).all())
            else:
                chosen = tuple(sorted({int(i) for i in ids}))
                found: set[int] = set()
                for part in _chunks(chosen):
                    found.update(s.scalars(select(Inspection.id)
                                           .where(Inspection.id.in_(part))).all())
                chosen = tuple(i for i in chosen if i in found)
            files: set[tuple[str, str]] = set()
            for part in _chunks(chosen):
                files.update(_files_of(s, part))
            used = _used_elsewhere(s, {sha for sha, _ in files}, set(chosen))
            return DeletionPreview(ids=chosen, cans=len(chosen),
                                   files=sum(1 for sha, _ in files if sha not in used))

    def delete(self, actor: Actor, inspection_id: int, reason: str) -> None:
        """Delete one inspection and its files; ``reason`` goes into the audit trail."""
        with self._db.read() as s:
            self._authorize(s, actor, "inspection.delete")
            self._get(s, Inspection, inspection_id, "Inspection")   # NotFound before anything
        self.delete_many(actor, [inspection_id], reason)

    def delete_many(self, actor: Actor, ids: Sequence[int], reason: str,
                    progress: Callable[[int, int], None] | None = None) -> DeletionResult:
        """Delete these inspections (ids that no longer exist are skipped) and the files no
        other inspection uses. One audit event per can, each with ``reason``.

        Work goes in batches of ``DELETE_BATCH`` cans, one transaction each, so a large set does
        not hold the database's write lock for long; ``progress(done, total)`` after each batch.
        A failure stops at a batch boundary: what was committed stays deleted (and audited).
        """
        reason = clean_text(reason, "reason", 500)
        chosen = sorted({int(i) for i in ids})
        with self._db.read() as s:
            self._authorize(s, actor, "inspection.delete")
        deleted = removed = 0
        for part in _chunks(chosen, DELETE_BATCH):
            with self._db.write() as s:
                me = self._authorize(s, actor, "inspection.delete")
                rows = s.scalars(select(Inspection).where(Inspection.id.in_(part))
                                 .with_for_update()).all()
                files = _files_of(s, [i.id for i in rows])
                # If we die after the commit but before removing the files, the sweep must look:
                # the data folder's sweep finds the touched folders, a shared store's the journal.
                self._files.touch_folders(files)
                journal = pending.journal_in(s, sorted(files), self._station_id(),
                                             self._db.now_naive()) if self._files.shared else []
                rollup.uncount(s, rows)   # the statistics' counts, in this transaction
                for i in rows:
                    self._audit(s, me, "inspection.delete", f"inspection:{i.id}", reason=reason,
                                product_id=i.product_id, started=i.started.isoformat(),
                                verdict=i.final_verdict)
                    s.delete(i)
                deleted += len(rows)
            if journal:
                removed += pending.discard(self._db, self._files, journal, sorted(files))
                if progress is not None:
                    progress(min(len(chosen), deleted), len(chosen))
                continue
            with self._db.read() as s:
                used = referenced_shas(s, {sha for sha, _ in files})
            for sha, ext in files:
                if sha not in used:
                    self._files.remove(sha, ext)
                    removed += 1
            if progress is not None:
                progress(min(len(chosen), deleted), len(chosen))
        return DeletionResult(cans=deleted, files=removed)


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    for n in range(0, len(ids), size):
        yield list(ids[n:n + size])


def _files_of(s: Session, ids: Sequence[int]) -> set[tuple[str, str]]:
    """(sha, ext) of every photo, heatmap, mask and thumbnail of these inspections."""
    if not ids:
        return set()
    files: set[tuple[str, str]] = set()
    for img, ext, heat, mask in s.execute(select(SideResult.image_sha, SideResult.image_ext,
                                                 SideResult.heatmap_sha, SideResult.mask_sha)
                                          .where(SideResult.inspection_id.in_(ids))):
        files.add((img, ext))
        if heat:
            files.add((heat, HEATMAP_EXT))
        if mask:
            files.add((mask, MASK_EXT))
    for sha, thumb_ext in s.execute(select(Inspection.thumbnail_sha, Inspection.thumbnail_ext)
                                    .where(Inspection.id.in_(ids),
                                           Inspection.thumbnail_sha.is_not(None))):
        if sha:
            files.add((sha, thumb_ext or ""))
    return files


def _used_elsewhere(s: Session, shas: set[str], ids: set[int]) -> set[str]:
    """Which of ``shas`` an inspection outside ``ids`` still uses."""
    used: set[str] = set()
    shas_list = sorted(shas)
    for n in range(0, len(shas_list), 500):
        part = shas_list[n:n + 500]
        for col, owner in ((SideResult.image_sha, SideResult.inspection_id),
                           (SideResult.heatmap_sha, SideResult.inspection_id),
                           (SideResult.mask_sha, SideResult.inspection_id),
                           (Inspection.thumbnail_sha, Inspection.id)):
            for sha, owner_id in s.execute(select(col, owner).where(col.in_(part))):
                if sha and owner_id not in ids:
                    used.add(sha)
    return used
