"""Errors meant for a person: ``str(exc)`` is a message the GUI or CLI can show as it is.

Anything else escaping ``db`` is a bug (or a broken database server) and should be logged with its
traceback. These classes carry no database objects, so they can cross threads freely.
"""
from __future__ import annotations

import errno
from datetime import datetime

from common.errors import PersonFacingError, StorageFull  # noqa: F401  (re-exported for db)


class StationDataError(PersonFacingError):
    """Base of every error that ``db`` raises on purpose."""


class InvalidCredentials(StationDataError):
    def __init__(self, message: str = "Wrong user name or password.") -> None:
        super().__init__(message)


class AccountLocked(StationDataError):
    """Too many failed sign-ins; ``until`` is an aware UTC datetime."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        local = until.astimezone().strftime("%Y-%m-%d %H:%M")
        super().__init__(f"Sign-in with this name is locked after too many failed tries, until "
                         f"{local}. Wait until then, or ask an admin to unlock it.")


class PermissionDenied(StationDataError):
    def __init__(self, action: str, message: str | None = None) -> None:
        self.action = action
        super().__init__(message or f"You are not allowed to do this ({action}).")


class NotFound(StationDataError):
    def __init__(self, what: str, key: object) -> None:
        self.what = what
        self.key = key
        super().__init__(f"{what} {key!r} does not exist (it may have been deleted).")


class ValidationError(StationDataError):
    """A value a person typed is not acceptable; ``field`` names the input it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class Conflict(StationDataError):
    """The request clashes with what is stored (a duplicate name, a warehouse that is not empty)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class DatabaseBusy(StationDataError):
    def __init__(self, message: str = "The database is busy (another station is writing). "
                                      "Please try again in a moment.") -> None:
        super().__init__(message)


class SchemaOutdated(StationDataError):
    """The database was written by a newer version of the station than this one."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"The database has schema revision {revision!r}, which this version of the station does "
            "not know: it was upgraded by a newer version. Install that version (or newer) here, "
            "or point this station at another database.")


class UpgradeRefused(StationDataError):
    """A schema upgrade cannot run on this data as it is; the message says what to change.
    Nothing was changed (the upgrade's transaction was rolled back)."""


class DatabaseUnavailable(StationDataError):
    """The database server cannot be reached, stopped answering or dropped the connection."""

    def __init__(self, message: str = "The database cannot be reached (the server is down, "
                                      "frozen or the network is broken). Nothing was saved by "
                                      "this step. Check the database server and the network, "
                                      "then try again.") -> None:
        super().__init__(message)


class DatabaseDamaged(StationDataError):
    """The database file is not a readable database (damaged, truncated, or another file)."""


class DataFolderMismatch(StationDataError):
    """The data folder and the database do not belong together; nothing was opened or removed."""


class DataFolderUnusable(StationDataError):
    """The data folder cannot be used (it is a file, or cannot be created or written)."""


class PasswordChangeRequired(StationDataError):
    """An admin asked this user to choose a new password; only that is allowed until then."""

    def __init__(self) -> None:
        super().__init__("Please choose a new password first: an admin asked for it. Until "
                         "then nothing else can be done with this account.")


def is_disk_full(exc: BaseException) -> bool:
    """An OSError saying the disk (or the user's quota on it) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class ImageStoreUnavailable(StationDataError):
    """The photo store (object storage) cannot be reached, or kept failing for the whole wait.
    Nothing that depended on it was saved; the caller may try again (the capture key keeps a
    retried can from being recorded twice)."""


class ImageStoreRefused(StationDataError):
    """The photo store answers but refuses the station: wrong credentials, no such bucket, no
    permission. Waiting does not help; the message says what to check."""


class PhotoMissing(StationDataError):
    """A photo, heatmap or thumbnail a row names is not in the store (or its bytes do not match
    its SHA-256)."""


class ModelUnavailable(StationDataError):
    """A model of the site cannot be brought to this station (not published, damaged, the store
    unreachable); the message says which and what to do."""


class StationNameTaken(StationDataError):
    """Another station of the site already uses this station name."""
