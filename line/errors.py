"""Person-facing errors of the line. ``str(exc)`` says what happened and what to do.

``core.errors.CameraUnavailable`` stays the error for a missing, busy or lost camera (the GUI's
capture panel shows it as it is); the line adds the errors of its own configuration and of the
PLC's requests.
"""
from __future__ import annotations

from core.errors import CameraUnavailable, StationError


class LineError(StationError):
    """Base of the line's own person-facing errors."""


class LineConfigInvalid(LineError):
    """``line.json`` (or a camera's settings) cannot be used; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str, path: str | None = None) -> None:
        self.field, self.path = field, path
        where = f" in {path}" if path else ""
        super().__init__(f"The line configuration{where} is not usable: {field}: {message}")


class CameraFrameFailed(CameraUnavailable):
    """The camera answered but the frame was broken or did not come in time (wiring, trigger)."""


class RequestRefused(LineError):
    """A PLC request that the line cannot honour now (no product, wrong step, camera lost...).

    ``code`` is a short machine name the PLC servers map to their status codes.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
