"""Bring a database to the newest schema revision, run at every start by ``Station.open``.

SQLite: when the file exists and is behind, a consistent copy is taken first
(``station.sqlite3.bak-<revision>-<UTC timestamp>``, made with SQLite's backup API so it is whole
even while WAL holds recent pages). A database at a revision this code does not know was written by
a newer station: :class:`~db.errors.SchemaOutdated`, and nothing is touched.

Two stations starting at once: the check and the upgrade run in one write transaction (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so the second waits and then finds head.
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from db.errors import SchemaOutdated

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x5EA7_0001  # arbitrary, fixed: serialises upgrades of one PostgreSQL database


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migration scripts have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def check_known(revision: str | None) -> None:
    if revision is None:
        return
    try:
        found = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise SchemaOutdated(revision)


def upgrade(engine: Engine, sqlite_file: Path | None, now: datetime | None = None,
            target: str = "head") -> Path | None:
    """Upgrade to ``target``; returns the backup file made (SQLite only), else None."""
    backup: Path | None = None
    write_engine = engine.execution_options(station_write=True)
    with write_engine.connect() as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            revision = current_revision(conn)
            check_known(revision)
            wanted = ScriptDirectory.from_config(alembic_config()).get_revision(target).revision
            if revision == wanted:
                return None
            if sqlite_file is not None and revision is not None:
                backup = _backup_sqlite(sqlite_file, revision, now or datetime.now(timezone.utc))
            log.info("upgrading database schema from %s to %s", revision, wanted)
            command.upgrade(alembic_config(conn), target)
    return backup


def _backup_sqlite(path: Path, revision: str, now: datetime) -> Path:
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest = path.with_name(f"{path.name}.bak-{revision}-{stamp}")
    # Our write transaction already holds the RESERVED lock; the backup only reads, which WAL allows.
    src = sqlite3.connect(str(path))
    try:
        dst = sqlite3.connect(str(dest))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    log.info("backed up %s to %s before upgrading", path.name, dest.name)
    return dest
