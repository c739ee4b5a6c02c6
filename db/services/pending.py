"""The journal of objects being written to a shared photo store (table ``pending_objects``).

Several stations write to one object store and one database. Before a station uploads a can's
photos it journals them (one short transaction); the transaction that commits the inspection
also removes its journal rows. A station killed in between leaves journal rows, and the next
sweep (any station's) removes their objects once they are older than the grace period and no row
names them, without listing the store. An object another station is still writing always has a
young journal row, so no sweep takes it: the sweep, the clean-up after a failed save and the
listing sweep all count a journalled object as in use.

Threading: plain functions over the caller's Session, or one short transaction each.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.database import Database
from db.schema import PendingObject
from db.services.rows import referenced_shas
from db.stores.base import ImageStore

log = logging.getLogger(__name__)

BATCH = 2000


def journal(db: Database, files: Sequence[tuple[str, str]], station_id: int | None,
            created: datetime | None = None) -> list[int]:
    """Journal ``files`` (sha, ext) before they are written; returns the rows' ids."""
    with db.write() as s:
        return journal_in(s, files, station_id, created or db.now_naive())


def journal_in(s: Session, files: Sequence[tuple[str, str]], station_id: int | None,
               created: datetime) -> list[int]:
    """:func:`journal` in the caller's transaction (a delete journals the files it frees)."""
    rows = [PendingObject(sha=sha, ext=ext, station_id=station_id, created_at=created)
            for sha, ext in dict.fromkeys(files)]
    s.add_all(rows)
    s.flush()
    return [r.id for r in rows]


def clear(s: Session, ids: Iterable[int]) -> None:
    ids = list(ids)
    for i in range(0, len(ids), BATCH):
        s.execute(delete(PendingObject).where(PendingObject.id.in_(ids[i:i + BATCH])))


def in_use(s: Session, shas: Iterable[str]) -> set[str]:
    """Which of ``shas`` a row names or a journal row says is being written."""
    shas = list(dict.fromkeys(shas))
    used = set()
    for i in range(0, len(shas), BATCH):
        batch = shas[i:i + BATCH]
        used |= referenced_shas(s, batch)
        used.update(s.scalars(select(PendingObject.sha).where(PendingObject.sha.in_(batch))))
    return used


def discard(db: Database, store: ImageStore, ids: Sequence[int],
            files: Sequence[tuple[str, str]]) -> int:
    """After a failed save (or a delete): remove its journal rows and the objects nothing else
    uses; returns how many objects went. If the database fails here, the rows stay and the sweep
    does it later."""
    try:
        with db.write() as s:
            clear(s, ids)
            used = in_use(s, [sha for sha, _ in files])
    except Exception:  # noqa: BLE001 - the database is failing: the journal keeps them
        log.info("left %d journalled photos to the sweep", len(files))
        return 0
    gone = 0
    for sha, ext in dict.fromkeys(files):
        if sha not in used:
            store.remove(sha, ext)
            gone += 1
    return gone


def sweep(db: Database, store: ImageStore, grace: timedelta, limit: int = 20_000) -> int:
    """Remove the objects of journal rows older than ``grace`` that nothing uses (a writer that
    died before its commit); returns how many objects went."""
    cutoff = db.now_naive() - grace
    with db.write() as s:
        stale = s.execute(select(PendingObject.id, PendingObject.sha, PendingObject.ext)
                          .where(PendingObject.created_at < cutoff)
                          .order_by(PendingObject.id).limit(limit)).all()
        if not stale:
            return 0
        clear(s, [r.id for r in stale])
        used = in_use(s, [r.sha for r in stale])
    doomed = list(dict.fromkeys((r.sha, r.ext) for r in stale if r.sha not in used))
    store.remove_many(doomed)
    if doomed:
        log.info("the journal sweep removed %d photos of saves that never committed",
                 len(doomed))
    return len(doomed)
