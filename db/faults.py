"""Database faults as station errors: the one place that reads SQLite's and PostgreSQL's errors.

``DatabaseBusy`` (locked too long, a statement over its time), ``DatabaseUnavailable`` (server
down, frozen or gone, the connection lost), ``DatabaseDamaged`` (an SQLite file that is no database
or is malformed), ``StorageFull`` (SQLite's or the server's disk is full), ``Conflict`` (a race on
a unique value). Anything else (a ``ProgrammingError``) is a bug and keeps its traceback.
Pure functions; any thread.
"""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from common.errors import PersonFacingError
from db.errors import Conflict, DatabaseBusy, DatabaseDamaged, DatabaseUnavailable, StorageFull

_DAMAGED = ("file is not a database", "database disk image is malformed",
            "file is encrypted or is not a database")
_FULL = ("database or disk is full", "disk full")


def translate_error(exc: DBAPIError, where: str = "the database") -> PersonFacingError | None:
    """The station error for a database fault, or None for a bug (which keeps its traceback).
    ``where`` names the database in lower case ("the database file /data/station.sqlite3")."""
    orig = exc.orig
    subject = where[:1].upper() + where[1:]
    text = str(orig).lower()
    code = getattr(orig, "sqlstate", None) or ""
    if is_busy_error(exc):
        return DatabaseBusy()
    if isinstance(exc, IntegrityError):
        # The services check first and give precise messages; this is the fallback for a race
        # between two stations that both passed the check.
        return Conflict("The change clashes with data another station just saved. "
                        "Please reload and try again.")
    if any(m in text for m in _FULL) or code == "53100":
        return StorageFull(where, "save")
    if any(m in text for m in _DAMAGED):
        return DatabaseDamaged(
            f"{subject} is damaged or is not a station database ({orig}). Nothing was changed. "
            "Restore it from a backup (station.sqlite3.bak-* beside it, or your own), or point "
            "the station at the right database.")
    if code == "57014":
        return DatabaseBusy("The database took too long to answer, so the step was cancelled. "
                            "Please try again; if it keeps happening, ask the administrator to "
                            "check the database server.")
    if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)) \
            or code.startswith(("08", "57P", "53")):
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return DatabaseUnavailable(
            f"{subject} cannot be reached or stopped answering ({first}). Nothing was saved by "
            "this step. Check that the database server is running and reachable, then try "
            "again.")
    return None


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
