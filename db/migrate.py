"""Bring a database to the newest schema revision, run at every start by ``Station.open``.

SQLite: when the file exists and is behind, a consistent copy is taken first
(``station.sqlite3.bak-<revision>-<UTC timestamp>``, made with SQLite's backup API so it is whole
even while WAL holds recent pages). A database at a revision this code does not know was written by
a newer station: :class:`~db.errors.SchemaOutdated`, and nothing is touched.

Two stations starting at once: the check and the upgrade run in one write transaction (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so the second waits and then finds head.

SQLite rebuilds tables to change them (a revision in batch mode): with foreign keys on, dropping
the old table would cascade-delete its children, so migrations run on a connection whose foreign
keys are off (SQLite's own procedure for schema changes), and ``PRAGMA foreign_key_check`` must
find nothing before the transaction commits.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
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
    with _schema_connection(engine) as conn:
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
            _check_foreign_keys(conn)
    return backup


def downgrade(engine: Engine, target: str) -> None:
    """Step the schema back to ``target`` (maintenance only; the station never does this)."""
    with _schema_connection(engine) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            command.downgrade(alembic_config(conn), target)
            _check_foreign_keys(conn)


@contextmanager
def _schema_connection(engine: Engine) -> Iterator[Connection]:
    """A write connection for migrations; on SQLite with foreign keys off until it is returned."""
    write_engine = engine.execution_options(station_write=True)
    with write_engine.connect() as conn:
        raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
        if raw is not None:
            # Outside any transaction (the pragma is ignored inside one): the connection runs
            # in autocommit mode until our BEGIN (db.database takes that over from sqlite3).
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            yield conn
        finally:
            if raw is not None:
                try:
                    raw.execute("PRAGMA foreign_keys=ON")
                except sqlite3.Error:   # the connection broke: the pool throws it away
                    conn.invalidate()


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the schema change would leave {len(broken)} rows pointing at rows "
                           f"that do not exist (first: {tuple(broken[0])}); rolled back")


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
