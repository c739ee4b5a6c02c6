"""Engine, sessions and transactions: the one place that knows SQLite from PostgreSQL.

Threading: a :class:`Database` is shared by all services and all threads. Each ``read()`` /
``write()`` call opens its own short Session and transaction on the calling thread and closes it
before returning; no Session ever crosses threads.

SQLite: foreign keys on, WAL (readers never block the writer), a busy timeout, and write
transactions opened with ``BEGIN IMMEDIATE`` so that a read-check-write (e.g. the capacity check)
cannot be overtaken by another process between its read and its write; a second writer waits up to
the busy timeout instead of failing with "database is locked" in the middle. PostgreSQL: the
services lock the rows they check with ``SELECT ... FOR UPDATE``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import Conflict, DatabaseBusy

log = logging.getLogger(__name__)

SQLITE_FILE = "station.sqlite3"
BUSY_TIMEOUT_S = 10.0

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / SQLITE_FILE}"


def display_url(url: str) -> str:
    """``url`` as a person may see it (status bar, messages, logs): the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<a database URL that cannot be read>"


def make_engine(url: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """Build an engine; for SQLite install the pragmas and our own BEGIN handling."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from the sqlite3 module (it would BEGIN lazily and
            # DEFERRED); the "begin" hook below emits the BEGIN we want.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("station_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


def is_busy_error(exc: BaseException) -> bool:
    """SQLite's lock timeout, or PostgreSQL's lock/serialisation failures."""
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        if "database is locked" in text or "database is busy" in text:
            return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        return code in ("40001", "40P01", "55P03")  # serialization, deadlock, lock not available
    return False


class Database:
    """Owns the engine and the two session factories; hands out short transactions."""

    def __init__(self, engine: Engine, now: Clock = utc_now) -> None:
        self.engine = engine
        self.now = now
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(station_write=True),
                                   expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (rolled back when the Session closes at the end)."""
        with self._translate(), self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back on any exception."""
        with self._translate(), self._write.begin() as session:
            yield session

    def now_naive(self) -> datetime:
        """The clock's now as naive UTC, the way timestamps are stored."""
        return to_naive_utc(self.now())

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if is_busy_error(exc):
                log.warning("database busy: %s", exc.orig)
                raise DatabaseBusy() from exc
            if isinstance(exc, IntegrityError):
                # The services check first and give precise messages; this is the fallback
                # for a race between two stations that both passed the check.
                raise Conflict("The change clashes with data another station just saved. "
                               "Please reload and try again.") from exc
            raise

    def dispose(self) -> None:
        self.engine.dispose()


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


@overload
def from_db_time(value: datetime) -> datetime: ...
@overload
def from_db_time(value: None) -> None: ...
@overload
def from_db_time(value: datetime | None) -> datetime | None: ...


def from_db_time(value: datetime | None) -> datetime | None:
    """Stored naive UTC -> aware UTC for the DTOs."""
    return None if value is None else value.replace(tzinfo=timezone.utc)
