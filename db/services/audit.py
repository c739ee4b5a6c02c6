"""Reading the audit log (events are written by the other services, in their own transactions).

Rules: admins only (``audit.view``): the log shows user management and sign-in failures, which
is admin business. Nothing here changes data.

Threading: every method is safe to call from any thread.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from db.database import from_db_time, to_naive_utc
from db.dto import AuditEntry
from db.errors import ValidationError
from db.permissions import Actor
from db.schema import AuditEvent
from db.services._base import Service


class AuditService(Service):
    def list(self, actor: Actor, *, since: datetime | None = None, until: datetime | None = None,
             action: str | None = None, user_id: int | None = None, offset: int = 0,
             limit: int = 200) -> list[AuditEntry]:
        """Newest first. ``action`` matches a whole action name or a prefix ending in "."
        (e.g. "user." for all user management)."""
        if not (offset >= 0 and 0 < limit <= 10_000):
            raise ValidationError("limit", "Ask for 1 to 10 000 events at a time.")
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
            q = _filtered(select(AuditEvent), since, until, action, user_id)
            q = q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit)
            return [AuditEntry(id=e.id, at=from_db_time(e.at), user_id=e.user_id,
                               username=e.username, action=e.action, target=e.target,
                               details=dict(e.details)) for e in s.scalars(q)]

    def count(self, actor: Actor, *, since: datetime | None = None, until: datetime | None = None,
              action: str | None = None, user_id: int | None = None) -> int:
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
            q = _filtered(select(func.count(AuditEvent.id)), since, until, action, user_id)
            return int(s.execute(q).scalar_one())


def _filtered(q: Select, since: datetime | None, until: datetime | None, action: str | None,
              user_id: int | None) -> Select:
    if since is not None:
        q = q.where(AuditEvent.at >= to_naive_utc(since))
    if until is not None:
        q = q.where(AuditEvent.at < to_naive_utc(until))
    if action:
        q = q.where(AuditEvent.action.startswith(action) if action.endswith(".")
                    else AuditEvent.action == action)
    if user_id is not None:
        q = q.where(AuditEvent.user_id == user_id)
    return q
