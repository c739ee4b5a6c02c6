"""Engine, sessions and transactions: the one place that knows SQLite from PostgreSQL.

Threading: a :class:`Database` is shared by all services and all threads. Each ``read()`` /
``write()`` call opens its own short Session and transaction on the calling thread and closes it
before returning; no Session ever crosses threads.

SQLite: foreign keys on, WAL (readers never block the writer), a busy timeout, and write
transactions opened with ``BEGIN IMMEDIATE`` so that a read-check-write (e.g. the capacity check)
cannot be overtaken by another process between its read and its write; a second writer waits up to
the busy timeout instead of failing with "database is locked" in the middle. PostgreSQL: the
services lock the rows they check with ``SELECT ... FOR UPDATE``; connecting, statements, lock
waits and idle transactions are bounded (:class:`Timeouts`), TCP keepalives find a dead peer, and
a client-side watchdog (:mod:`db.watchdog`) frees a call whose server froze.

Faults become station errors at the end of every transaction (``_translate``, by the rules in
:mod:`db.faults`), so nothing raw escapes a service.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.faults import translate_error
from db.watchdog import Watchdog

log = logging.getLogger(__name__)

SQLITE_FILE = "station.sqlite3"
BUSY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Timeouts:
    """How long a PostgreSQL call may take before it fails with a station error (seconds).

    ``connect``: opening a connection (libpq ``connect_timeout``, whole seconds, at least 2);
    ``statement``/``lock``: the server cancels a statement or a lock wait that takes longer;
    ``idle_transaction``: the server ends a transaction its client abandoned;
    ``answer``: the client drops a connection whose server has not answered for this long
    (a frozen server, see :mod:`db.watchdog`); keepalives find a peer that vanished.
    """

    connect: float = 5.0
    statement: float = 15.0
    lock: float = 10.0
    idle_transaction: float = 60.0
    answer: float = 20.0
    keepalive_idle: int = 10
    keepalive_interval: int = 5
    keepalive_count: int = 3


DEFAULT_TIMEOUTS = Timeouts()
_WATCHDOGS: weakref.WeakKeyDictionary[Engine, Watchdog] = weakref.WeakKeyDictionary()

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


def make_engine(url: str, busy_timeout_s: float = BUSY_TIMEOUT_S,
                timeouts: Timeouts = DEFAULT_TIMEOUTS) -> Engine:
    """Build an engine; for SQLite install the pragmas and our own BEGIN handling, for
    PostgreSQL the timeouts, keepalives and the watchdog (:class:`Database` finds it)."""
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
    if make_url(url).get_backend_name() != "postgresql":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args=_pg_connect_args(url, timeouts))
    # The watchdog checks pooled connections itself (armed), instead of pool_pre_ping.
    _WATCHDOGS[engine] = Watchdog(engine, timeouts.answer)
    return engine


def _pg_connect_args(url: str, t: Timeouts) -> dict[str, Any]:
    ms = lambda s: int(s * 1000)
    options = " ".join(filter(None, [
        str(make_url(url).query.get("options", "")),
        f"-c statement_timeout={ms(t.statement)}", f"-c lock_timeout={ms(t.lock)}",
        f"-c idle_in_transaction_session_timeout={ms(t.idle_transaction)}"]))
    return {"connect_timeout": max(2, round(t.connect)), "keepalives": 1,
            "keepalives_idle": t.keepalive_idle, "keepalives_interval": t.keepalive_interval,
            "keepalives_count": t.keepalive_count,
            # Data the server's kernel never acknowledges (a pulled cable) fails the call too.
            "tcp_user_timeout": ms(t.answer), "options": options}


class Database:
    """Owns the engine and the two session factories; hands out short transactions."""

    def __init__(self, engine: Engine, now: Clock = utc_now) -> None:
        self.engine = engine
        self.now = now
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.watchdog: Watchdog | None = _WATCHDOGS.get(engine)
        self.where = _describe(engine)
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

    def guarded(self, session: Session, rows: Iterator[Any]) -> Iterator[Any]:
        """``rows`` (e.g. batches from a server-side cursor), each fetch under the watchdog."""
        watchdog = self.watchdog
        dbapi_conn = session.connection().connection.dbapi_connection if watchdog else None
        while True:
            if watchdog is not None:
                with watchdog.guard(dbapi_conn):
                    item = next(rows, _END)
            else:
                item = next(rows, _END)
            if item is _END:
                return
            yield item

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            error = translate_error(exc, self.where)
            if error is None:
                raise
            log.warning("%s: %s", type(error).__name__, exc.orig)
            raise error from exc

    def dispose(self) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()
        self.engine.dispose()


_END = object()


def _describe(engine: Engine) -> str:
    """How messages name the database: its file, or its server without a password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"the database file {url.database}"
    return f"the database {url.render_as_string(hide_password=True)}"


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
