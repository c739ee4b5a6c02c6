"""Persistence and the rules about data: no Qt, no torch, no core.

The GUI and the command line use :class:`Station` (``Station.open(url, data_dir)``) and its
services; see docs/DB.md for the permission matrix, the files and the schema.
"""
from __future__ import annotations

from db.errors import (
                       AccountLocked,
                       Conflict,
                       DatabaseBusy,
                       DatabaseDamaged,
                       DatabaseUnavailable,
                       DataFolderMismatch,
                       DataFolderUnusable,
                       InvalidCredentials,
                       NotFound,
                       PasswordChangeRequired,
                       PermissionDenied,
                       SchemaOutdated,
                       StationDataError,
                       StorageFull,
                       UpgradeRefused,
                       ValidationError,
)
from db.permissions import Actor, Role
from db.records import GalleryFilter, NewInspection, NewSide
from db.station import Station

__all__ = [
    "AccountLocked", "Actor", "Conflict", "DataFolderMismatch", "DataFolderUnusable",
    "DatabaseBusy", "DatabaseDamaged", "DatabaseUnavailable", "GalleryFilter",
    "InvalidCredentials", "NewInspection", "NewSide", "NotFound", "PasswordChangeRequired",
    "PermissionDenied", "Role", "SchemaOutdated", "Station", "StationDataError", "StorageFull",
    "UpgradeRefused", "ValidationError",
]
