"""What every camera source offers, and the settings a camera takes.

A source is opened, triggered, read and closed by ONE thread at a time (its owner: the GUI's grab
thread, or the line's capture thread); SDK camera objects are not meant to be shared. Errors are
person-facing: ``CameraUnavailable`` when the camera is missing or lost (the owner reconnects by
calling ``close`` then ``open``), ``CameraFrameFailed`` (a subclass) when one frame was broken or
late, ``LineConfigInvalid`` when the settings do not fit the camera.

Frames are HxWx3 uint8 RGB numpy arrays the caller owns (mono cameras give grey in all three
channels, because the models take RGB).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np

from line.errors import LineConfigInvalid


class TriggerMode(str, Enum):
    FREE_RUN = "free-run"        # the camera streams; a capture takes the next frame
    SOFTWARE = "software"        # the station fires the camera's trigger when the PLC asks
    HARDWARE = "hardware"        # the PLC (or a light barrier) pulses the camera's trigger line


PIXEL_FORMATS = ("colour", "mono")


@dataclass(frozen=True)
class CameraSettings:
    """Settings that the camera applies at ``open``. ``None`` leaves the camera's own value."""

    exposure_us: float | None = None
    gain_db: float | None = None
    pixel_format: str = "colour"                      # "colour" | "mono"
    roi: tuple[int, int, int, int] | None = None      # x, y, width, height in sensor pixels
    trigger: TriggerMode = TriggerMode.SOFTWARE
    trigger_line: str = "Line1"                       # for TriggerMode.HARDWARE
    frame_timeout_ms: int = 1000                      # a frame later than this is a failure

    def __post_init__(self) -> None:
        if self.pixel_format not in PIXEL_FORMATS:
            raise LineConfigInvalid("pixel_format", f"{self.pixel_format!r}: use 'colour' or 'mono'.")
        if self.exposure_us is not None and not self.exposure_us > 0:
            raise LineConfigInvalid("exposure_us", "the exposure time must be above 0 µs.")
        if self.roi is not None:
            if len(self.roi) != 4 or any(int(v) != v or v < 0 for v in self.roi) \
                    or self.roi[2] < 1 or self.roi[3] < 1:
                raise LineConfigInvalid("roi", "give [x, y, width, height] in whole pixels, "
                                               "width and height at least 1.")
        if not 1 <= self.frame_timeout_ms <= 600_000:
            raise LineConfigInvalid("frame_timeout_ms", "use 1 to 600000 ms.")


class FrameSource(Protocol):
    """The live preview's view of a camera (``gui.camera.CameraFeed`` reads it in its thread)."""

    def open(self) -> None: ...                       # raises CameraUnavailable
    def read(self) -> np.ndarray | None: ...          # HxWx3 uint8 RGB; None = no frame this time
    def close(self) -> None: ...


class CameraSource(FrameSource, Protocol):
    """A camera the line triggers: ``trigger`` starts an exposure (a no-op unless the trigger is
    software), ``retrieve`` returns that exposure's frame. Triggering several cameras first and
    retrieving afterwards exposes them together. ``capture`` = both."""

    name: str
    settings: CameraSettings

    def trigger(self) -> None: ...
    def retrieve(self, timeout_ms: int | None = None) -> np.ndarray: ...
    def capture(self, timeout_ms: int | None = None) -> np.ndarray: ...
    def describe(self) -> str: ...


def to_rgb(frame: np.ndarray) -> np.ndarray:
    """A frame from a mono or colour sensor as HxWx3 uint8 RGB (a new array)."""
    if frame.ndim == 2:
        return np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return np.repeat(frame, 3, axis=2)
    return np.ascontiguousarray(frame[:, :, :3]).copy()


def to_mono_rgb(rgb: np.ndarray) -> np.ndarray:
    """Grey in all three channels (ITU-R BT.601 weights, as cameras' mono formats use)."""
    grey = (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).round()
    return to_rgb(grey.clip(0, 255).astype(np.uint8))
