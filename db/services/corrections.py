"""Corrections: a supervisor's verdict for a side (Good/Anomaly) or a whole can (pass/review/
reject). Each is kept (who, when, note) and audited; the newest one is also written onto the
corrected row, so reading, filtering and counting use it without a look-up ("latest wins").
Corrected side labels become training labels (``inspections.labelled_sides``).

A side correction may carry a mask (a PNG where a person drew the defect), stored like the photo
and kept on the side (``side_results.mask_sha``, newest wins); segdec trains on it.

Rules: supervisors and admins correct (``correction.create``); reading the corrections of an
inspection follows the inspection's own visibility (operators: their own).

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from sqlalchemy import select

from db import rollup
from db.database import Database, from_db_time
from db.dto import CorrectionInfo
from db.errors import PermissionDenied, ValidationError
from db.permissions import Actor, Role, allowed
from db.records import LABELS, VERDICTS
from db.schema import Correction, Inspection, SideResult, User
from db.services import pending
from db.services._base import Service, clean_text
from db.services.rows import MASK_EXT
from db.stores.base import ImageStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_MASK_BYTES = 16 * 1024 * 1024


def correction_info(c: Correction, username: str) -> CorrectionInfo:
    return CorrectionInfo(id=c.id, inspection_id=c.inspection_id,
                          side_result_id=c.side_result_id, value=c.value, note=c.note,
                          user_id=c.user_id, username=username,
                          created_at=from_db_time(c.created_at))


class CorrectionService(Service):
    def __init__(self, db: Database, files: ImageStore,
                 station_id: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(db)
        self._files = files
        self._station_id = station_id

    def correct_side(self, actor: Actor, side_result_id: int, label: str,
                     note: str = "", mask: bytes | None = None) -> CorrectionInfo:
        """``mask``: a PNG marking the defect (8-bit, defect > 127, the photo's size or any size:
        training resizes it), kept with the side as its newest mask; only with label Anomaly."""
        if mask is not None:
            _check_mask(mask, label)
        with self._db.read() as s:      # refuse before a file is written
            self._authorize(s, actor, "correction.create")
        if mask is None:
            return self._correct_side(actor, side_result_id, label, note, None)
        # On a shared store the mask is journalled before its upload (db.services.pending), so a
        # correction that fails after it leaves no object that no sweep would ever find.
        files = [(hashlib.sha256(mask).hexdigest(), MASK_EXT)]
        journal = pending.journal(self._db, files, self._station_id()) if self._files.shared else []
        try:
            mask_sha = self._files.put(mask, MASK_EXT)[0]
            info = self._correct_side(actor, side_result_id, label, note, mask_sha, journal)
        except BaseException:
            if journal:
                pending.discard(self._db, self._files, journal, files)
            raise
        return info

    def _correct_side(self, actor: Actor, side_result_id: int, label: str, note: str,
                      mask_sha: str | None, journal: Sequence[int] = ()) -> CorrectionInfo:
        with self._db.write() as s:
            if journal:
                pending.clear(s, journal)
            me = self._authorize(s, actor, "correction.create")
            if label not in LABELS:
                raise ValidationError("label", "The label must be Good or Anomaly.")
            note = clean_text(note, "note", 2000, required=False)
            side = self._get(s, SideResult, side_result_id, "Side result", lock=True)
            if mask_sha is not None:
                side.mask_sha = mask_sha
            c = Correction(inspection_id=side.inspection_id, side_result_id=side.id, value=label,
                           note=note, user_id=me.id, created_at=self._db.now_naive())
            s.add(c)
            old = side.corrected_label or side.label
            side.corrected_label = label
            s.flush()
            rollup.recount_side(s, side, old, label)
            extra = {"mask_sha256": mask_sha} if mask_sha is not None else {}
            self._audit(s, me, "correction.side", f"side_result:{side.id}",
                        inspection_id=side.inspection_id, old=old, new=label, **extra)
            return correction_info(c, me.username)

    def correct_can(self, actor: Actor, inspection_id: int, verdict: str,
                    note: str = "") -> CorrectionInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "correction.create")
            if verdict not in VERDICTS:
                raise ValidationError("verdict", "The verdict must be pass, review or reject.")
            note = clean_text(note, "note", 2000, required=False)
            i = self._get(s, Inspection, inspection_id, "Inspection", lock=True)
            c = Correction(inspection_id=i.id, side_result_id=None, value=verdict, note=note,
                           user_id=me.id, created_at=self._db.now_naive())
            s.add(c)
            old = i.final_verdict
            i.corrected_verdict = verdict
            i.final_verdict = verdict
            s.flush()
            rollup.recount_verdict(s, i, old, verdict)
            self._audit(s, me, "correction.can", f"inspection:{i.id}", old=old, new=verdict)
            return correction_info(c, me.username)

    def list_for_inspection(self, actor: Actor, inspection_id: int) -> list[CorrectionInfo]:
        """All corrections of one inspection, oldest first."""
        with self._db.read() as s:
            me = self._authorize(s, actor, "inspection.view_own")
            i = self._get(s, Inspection, inspection_id, "Inspection")
            if i.operator_id != me.id and not allowed(Role(me.role), "inspection.view_all"):
                raise PermissionDenied("inspection.view_all",
                                       "Operators can only open their own inspections.")
            rows = s.execute(select(Correction, User.username)
                             .join(User, Correction.user_id == User.id)
                             .where(Correction.inspection_id == i.id)
                             .order_by(Correction.created_at, Correction.id)).all()
            return [correction_info(c, name) for c, name in rows]


def _check_mask(mask: bytes, label: str) -> None:
    if not isinstance(mask, (bytes, bytearray)) or not bytes(mask[:8]) == PNG_SIGNATURE:
        raise ValidationError("mask", "A mask must be a PNG image (drawn with the brush or imported).")
    if len(mask) > MAX_MASK_BYTES:
        raise ValidationError("mask", f"The mask file is larger than {MAX_MASK_BYTES // 2**20} MB.")
    if label != "Anomaly":
        raise ValidationError("mask", "A mask marks a defect: set the side to Anomaly to keep it.")
