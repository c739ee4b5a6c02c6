"""Corrections: a supervisor's verdict for a side (Good/Anomaly) or a whole can (pass/review/
reject). Each is kept (who, when, note) and audited; the newest one is also written onto the
corrected row, so reading, filtering and counting use it without a look-up ("latest wins").
Corrected side labels become training labels (``inspections.labelled_sides``).

Rules: supervisors and admins correct (``correction.create``); reading the corrections of an
inspection follows the inspection's own visibility (operators: their own).

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

from sqlalchemy import select

from db.database import from_db_time
from db.dto import CorrectionInfo
from db.errors import PermissionDenied, ValidationError
from db.permissions import Actor, Role, allowed
from db.records import LABELS, VERDICTS
from db.schema import Correction, Inspection, SideResult, User
from db.services._base import Service, clean_text


def correction_info(c: Correction, username: str) -> CorrectionInfo:
    return CorrectionInfo(id=c.id, inspection_id=c.inspection_id,
                          side_result_id=c.side_result_id, value=c.value, note=c.note,
                          user_id=c.user_id, username=username,
                          created_at=from_db_time(c.created_at))


class CorrectionService(Service):
    def correct_side(self, actor: Actor, side_result_id: int, label: str,
                     note: str = "") -> CorrectionInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "correction.create")
            if label not in LABELS:
                raise ValidationError("label", "The label must be Good or Anomaly.")
            note = clean_text(note, "note", 2000, required=False)
            side = self._get(s, SideResult, side_result_id, "Side result", lock=True)
            c = Correction(inspection_id=side.inspection_id, side_result_id=side.id, value=label,
                           note=note, user_id=me.id, created_at=self._db.now_naive())
            s.add(c)
            old = side.corrected_label or side.label
            side.corrected_label = label
            s.flush()
            self._audit(s, me, "correction.side", f"side_result:{side.id}",
                        inspection_id=side.inspection_id, old=old, new=label)
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
