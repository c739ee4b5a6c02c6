"""A deadline on every round trip to a PostgreSQL server, kept on the client.

A server that stops answering without closing its connections (frozen: SIGSTOP, a hung VM, a
full network buffer) is not caught by the server's own ``statement_timeout`` (the frozen server
cannot enforce it) nor by TCP keepalives (the kernel still acknowledges), and libpq has no read
timeout: every call would wait forever. So each wait for the server is armed with a deadline:

- a statement (``before_cursor_execute`` .. ``after_cursor_execute`` / ``handle_error``),
- a commit or rollback, and the rollback when a connection goes back to the pool (armed at the
  ``commit``/``rollback``/``reset`` events, disarmed when the connection is checked in),
- the liveness check when a pooled connection is taken out (this module runs it instead of
  SQLAlchemy's ``pool_pre_ping``, so that it is armed too),
- rows fetched from a server-side cursor (:meth:`Watchdog.guard` around each batch).

When a deadline passes, the watchdog thread shuts the connection's socket down: the waiting call
wakes with an error at once, SQLAlchemy discards the connection as disconnected, and the service
raises ``DatabaseUnavailable``. Opening a connection is bounded by libpq's ``connect_timeout``.

Threading: one watchdog per engine, shared by all threads; its own daemon thread checks the
deadlines a few times a second and stops at :meth:`Watchdog.stop`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

_TICK_S = 0.2
_FIRED = "station_watchdog_fired"


# An execution option of a Connection whose statements run without the deadline: maintenance
# (a schema upgrade's back-fill, an admin's rebuild) that may legitimately take minutes.
UNBOUNDED = "station_unbounded"


class Watchdog:
    def __init__(self, engine: Engine, answer_s: float) -> None:
        self.answer_s = float(answer_s)
        self.fired = 0                      # how many connections it had to cut (tests, logs)
        self._engine = engine
        self._armed: dict[int, tuple[float, Any]] = {}   # id(dbapi conn) -> (deadline, conn)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "after_cursor_execute", self._after_execute)
        event.listen(engine, "handle_error", self._on_error)
        event.listen(engine, "commit", self._on_transaction_end)
        event.listen(engine, "rollback", self._on_transaction_end)
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "reset", self._on_reset)
        event.listen(engine, "checkin", self._on_checkin)

    # -- arming ----------------------------------------------------------------------------
    def arm(self, dbapi_conn: Any) -> None:
        if dbapi_conn is None:
            return
        with self._lock:
            self._armed[id(dbapi_conn)] = (time.monotonic() + self.answer_s, dbapi_conn)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog",
                                                daemon=True)
                self._thread.start()

    def disarm(self, dbapi_conn: Any) -> None:
        if dbapi_conn is not None:
            with self._lock:
                self._armed.pop(id(dbapi_conn), None)

    @contextmanager
    def guard(self, dbapi_conn: Any) -> Iterator[None]:
        """Arm ``dbapi_conn`` for the duration of the block (e.g. one fetch of a stream)."""
        self.arm(dbapi_conn)
        try:
            yield
        finally:
            self.disarm(dbapi_conn)

    def stop(self) -> None:
        self._stop.set()

    # -- events ----------------------------------------------------------------------------
    @staticmethod
    def _dbapi(conn: Any) -> Any:
        try:
            return conn.connection.dbapi_connection
        except (AttributeError, exc.SQLAlchemyError):
            return None

    def _before_execute(self, conn: Any, *_args: Any) -> None:
        if conn.get_execution_options().get(UNBOUNDED):
            return      # maintenance work known to be long (db.rollup.unbounded)
        self.arm(self._dbapi(conn))

    def _after_execute(self, conn: Any, *_args: Any) -> None:
        self.disarm(self._dbapi(conn))

    def _on_transaction_end(self, conn: Any) -> None:
        self.arm(self._dbapi(conn))          # disarmed at check-in (or the next statement)

    def _on_error(self, context: Any) -> None:
        dbapi_conn = self._dbapi(context.connection) if context.connection is not None else None
        self.disarm(dbapi_conn)
        if dbapi_conn is not None and getattr(dbapi_conn, _FIRED, False):
            context.is_disconnect = True     # the connection is gone: never reuse it

    def _on_connect(self, _dbapi_conn: Any, record: Any) -> None:
        record.info["station_fresh"] = True

    def _on_checkout(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("station_fresh", False):
            return
        try:
            with self.guard(dbapi_conn):
                self._engine.dialect.do_ping(dbapi_conn)
        except Exception as err:
            log.info("database connection failed its check (%s); reconnecting", err)
            raise exc.InvalidatePoolError() from err

    def _on_reset(self, dbapi_conn: Any, _record: Any, _state: Any) -> None:
        self.arm(dbapi_conn)

    def _on_checkin(self, dbapi_conn: Any, _record: Any) -> None:
        self.disarm(dbapi_conn)

    # -- the watchdog thread ---------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(_TICK_S):
            now = time.monotonic()
            with self._lock:
                late = [(key, conn) for key, (deadline, conn) in self._armed.items()
                        if deadline <= now]
                for key, _conn in late:
                    del self._armed[key]
            for _key, conn in late:
                self._cut(conn)

    def _cut(self, dbapi_conn: Any) -> None:
        try:
            fd = dbapi_conn.pgconn.socket
        except Exception:  # noqa: BLE001 - already closed: nothing is waiting on it
            return
        log.warning("the database server did not answer within %.0f s; dropping the connection",
                    self.answer_s)
        try:
            setattr(dbapi_conn, _FIRED, True)
        except AttributeError:
            pass
        try:
            # shutdown() acts on the socket, not on this duplicate descriptor: the waiting call
            # sees the connection end. Closing only the duplicate leaves libpq's descriptor
            # for libpq to close.
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
            self.fired += 1
        except OSError as err:
            log.debug("could not shut the database socket down: %s", err)
