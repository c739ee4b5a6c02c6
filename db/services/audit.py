"""Reading the audit log (events are written by the other services, in their own transactions).

Rules: admins only (``audit.view``): the log shows user management and sign-in failures, which
is admin business. Nothing here changes data, except that an export is itself audited.

Filters (``AuditFilter``): who (a user name as logged, which includes "system" and the names
typed at failed sign-ins; or a user id), what (a whole action name, or a prefix ending in "."
such as "user."), when (``since`` inclusive, ``until`` exclusive). Pages are newest first, by
offset; the ``at`` index keeps a page of a log of a million events to milliseconds.

Threading: every method is safe to call from any thread.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Select, func, select

from common.atomic import replacing
from db.csv_cells import safe_row
from db.database import from_db_time, to_naive_utc
from db.dto import AuditEntry
from db.errors import ValidationError
from db.permissions import Actor
from db.schema import AuditEvent
from db.services._base import Service

MAX_PAGE = 10_000
_EXPORT_BATCH = 1000
CSV_COLUMNS = ("id", "at_utc", "username", "user_id", "action", "target", "details")


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None          # "user.set_role", or a prefix ending in "." ("user.")
    username: str | None = None        # as logged: includes "system" and failed sign-in names
    user_id: int | None = None


class AuditService(Service):
    def list(self, actor: Actor, filters: AuditFilter | None = None, *, offset: int = 0,
             limit: int = 200, **fields: object) -> list[AuditEntry]:
        """Newest first. The filter is ``filters`` or the same fields as keywords
        (``since=``, ``until=``, ``action=``, ``username=``, ``user_id=``)."""
        if not (isinstance(offset, int) and offset >= 0 and 0 < limit <= MAX_PAGE):
            raise ValidationError("limit", "Ask for 1 to 10 000 events at a time.")
        f = _as_filter(filters, fields)
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
            q = _filtered(select(AuditEvent), f)
            q = q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit)
            return [_entry(e) for e in s.scalars(q)]

    def count(self, actor: Actor, filters: AuditFilter | None = None, **fields: object) -> int:
        f = _as_filter(filters, fields)
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
            q = _filtered(select(func.count(AuditEvent.id)), f)
            return int(s.execute(q).scalar_one())

    def choices(self, actor: Actor) -> tuple[Sequence[str], Sequence[str]]:
        """The user names and the actions that occur in the log (for the filter lists)."""
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
            names = s.scalars(select(AuditEvent.username).distinct()
                              .order_by(AuditEvent.username)).all()
            actions = s.scalars(select(AuditEvent.action).distinct()
                                .order_by(AuditEvent.action)).all()
            return list(names), list(actions)

    def export_csv(self, actor: Actor, dest: str | Path | TextIO,
                   filters: AuditFilter | None = None) -> int:
        """Write the filtered events (oldest first) as CSV to a path (written atomically) or an
        open text stream; returns how many. The export is audited."""
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
        f = filters or AuditFilter()
        if isinstance(dest, (str, Path)):
            with replacing(dest) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
                count = self._write_csv(actor, f, fh)
        else:
            count = self._write_csv(actor, f, dest)
        with self._db.write() as s:
            me = self._authorize(s, actor, "audit.view")
            self._audit(s, me, "audit.export", "", rows=count,
                        filter={k: (v.isoformat() if isinstance(v, datetime) else v)
                                for k, v in vars(f).items() if v is not None})
        return count

    def _write_csv(self, actor: Actor, f: AuditFilter, fh: TextIO) -> int:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        count = 0
        with self._db.read() as s:
            self._authorize(s, actor, "audit.view")
            q = _filtered(select(AuditEvent), f).order_by(AuditEvent.at, AuditEvent.id)
            for e in s.scalars(q.execution_options(yield_per=_EXPORT_BATCH)):
                writer.writerow(safe_row([
                    e.id, e.at.isoformat(), e.username, "" if e.user_id is None else e.user_id,
                    e.action, e.target, json.dumps(e.details, sort_keys=True, ensure_ascii=False)]))
                count += 1
        return count


def _entry(e: AuditEvent) -> AuditEntry:
    return AuditEntry(id=e.id, at=from_db_time(e.at), user_id=e.user_id, username=e.username,
                      action=e.action, target=e.target, details=dict(e.details))


def _as_filter(filters: AuditFilter | None, fields: dict[str, object]) -> AuditFilter:
    if filters is not None and fields:
        raise TypeError("pass either an AuditFilter or keyword filters, not both")
    if filters is not None:
        return filters
    try:
        return AuditFilter(**fields)  # type: ignore[arg-type]
    except TypeError as exc:
        raise TypeError(f"unknown audit filter: {exc}") from None


def _filtered(q: Select, f: AuditFilter) -> Select:
    if f.since is not None:
        q = q.where(AuditEvent.at >= to_naive_utc(f.since))
    if f.until is not None:
        q = q.where(AuditEvent.at < to_naive_utc(f.until))
    if f.since is not None and f.until is not None and f.until <= f.since:
        raise ValidationError("until", "The end of the period is before its start.")
    if f.action:
        q = q.where(AuditEvent.action.startswith(f.action, autoescape=True)
                    if f.action.endswith(".") else AuditEvent.action == f.action)
    if f.username:
        q = q.where(AuditEvent.username == f.username)
    if f.user_id is not None:
        q = q.where(AuditEvent.user_id == f.user_id)
    return q
