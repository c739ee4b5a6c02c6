"""Errors meant for a person. ``str(exc)`` is a complete sentence the GUI can show as it is."""
from __future__ import annotations

from pathlib import Path

from common.errors import PersonFacingError, StorageFull  # noqa: F401  (re-exported for core)


class StationError(PersonFacingError):
    """Base of every error the engine reports to its user without a traceback."""


class UnreadableImage(StationError):
    def __init__(self, source: str | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"Cannot read image {self.source}: {reason}")


class ModelFileInvalid(StationError):
    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"The model at {self.path} cannot be used: {reason}")


class WeightsUnavailable(StationError):
    """Pretrained weights can be neither downloaded nor found in a local file."""


class CameraUnavailable(StationError):
    """The camera is missing, busy or was unplugged."""


class Cancelled(StationError):
    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


class DatasetInvalid(StationError):
    """A training or evaluation folder (or sample list) cannot be used as it is."""
