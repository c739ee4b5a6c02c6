"""The base of every error meant for a person, and the few such errors every layer can raise.

``str(exc)`` is a complete message the GUI or the command line shows as it is: what happened and
what to do. ``core.errors.StationError`` is this class; ``db.errors.StationDataError`` derives from
it, so one ``except PersonFacingError`` catches every error the station raises on purpose. Anything
else is a bug and is logged with its traceback. Plain values only: these cross threads freely.
"""
from __future__ import annotations


class PersonFacingError(Exception):
    """Base of every error the station reports to its user without a traceback."""


class StorageFull(PersonFacingError):
    """The disk (or the volume behind a folder) has no room left; nothing was half-written."""

    def __init__(self, where: str, action: str = "write") -> None:
        self.where = where
        super().__init__(f"The disk holding {where} is full, so the station could not {action} there. "
                         "Nothing was lost: free some space (or point the station at a larger disk) "
                         "and try again.")
