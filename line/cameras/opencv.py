"""A camera through OpenCV's ``VideoCapture``: a USB/V4L2 device index, a network stream (RTSP or
HTTP MJPEG URL) or a video file.

Such cameras stream on their own, so the trigger is free-run: a capture takes the next frame after
the request (buffered frames of a device or stream are dropped first; a file just advances).
Exposure and gain go to the driver where it supports them (units are the driver's); the region
is cut out of each frame; mono turns the frame grey.

Threading rule: one owner thread opens, reads and closes it (OpenCV capture objects are not
thread-safe).
"""
from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from core.errors import CameraUnavailable
from line.cameras.base import CameraSettings, TriggerMode, to_mono_rgb
from line.errors import CameraFrameFailed, LineConfigInvalid

log = logging.getLogger(__name__)


class OpenCVSource:
    """``device``: ``"0"`` is device index 0; anything else is a URL or a file path."""

    def __init__(self, device: str, width: int = 1280, height: int = 720,
                 max_failures: int = 15, settings: CameraSettings | None = None,
                 name: str = "") -> None:
        self.device = str(device).strip()
        self.width, self.height = width, height
        self.max_failures = max_failures   # ~1 s of failed reads at the preview rate = unplugged
        self.settings = settings or CameraSettings(trigger=TriggerMode.FREE_RUN)
        if self.settings.trigger is TriggerMode.HARDWARE:
            raise LineConfigInvalid("trigger", f"the camera '{self.device}' is read through "
                                    "OpenCV, which has no trigger line; use a GenICam camera "
                                    "(kind 'pylon') for a hardware trigger.")
        self.name = name or self.device
        self._cap: Any = None
        self._failures = 0

    @property
    def _is_file(self) -> bool:
        return os.path.isfile(self.device)

    def describe(self) -> str:
        return f"OpenCV camera '{self.device}'"

    def open(self) -> None:
        import cv2  # imported here: the GUI starts faster, and only the owner thread needs it

        target: int | str = int(self.device) if self.device.isdigit() else self.device
        cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailable(
                f"The camera '{self.device}' cannot be opened. Check that it is plugged in and not "
                "used by another program, or choose another camera in Settings.")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fewer stale frames, where the backend allows it
        s = self.settings
        if s.exposure_us is not None and not cap.set(cv2.CAP_PROP_EXPOSURE, float(s.exposure_us)):
            log.warning("%s: the driver refused the exposure %s", self.describe(), s.exposure_us)
        if s.gain_db is not None and not cap.set(cv2.CAP_PROP_GAIN, float(s.gain_db)):
            log.warning("%s: the driver refused the gain %s", self.describe(), s.gain_db)
        self._cap, self._failures = cap, 0

    def read(self) -> np.ndarray | None:
        import cv2

        if self._cap is None:
            raise CameraUnavailable("The camera is not open.")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._failures += 1
            if self._failures >= self.max_failures:
                raise CameraUnavailable(
                    f"The camera '{self.device}' stopped sending pictures; it may have been "
                    "unplugged. Captured photos are kept; reconnect it and press Restart camera.")
            return None
        self._failures = 0
        rgb = (cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB) if frame.ndim == 2
               else cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        return self._finish(rgb)

    def trigger(self) -> None:
        """Free-run: drop the frame the driver buffered before the request (not for files)."""
        if self._cap is None:
            raise CameraUnavailable(f"The camera '{self.device}' is not open.")
        if not self._is_file:
            self._cap.grab()

    def retrieve(self, timeout_ms: int | None = None) -> np.ndarray:
        for _ in range(self.max_failures):
            rgb = self.read()
            if rgb is not None:
                return rgb
        raise CameraFrameFailed(f"The camera '{self.device}' gave no picture.")

    def capture(self, timeout_ms: int | None = None) -> np.ndarray:
        self.trigger()
        return self.retrieve(timeout_ms)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _finish(self, rgb: np.ndarray) -> np.ndarray:
        s = self.settings
        if s.roi is not None:
            x, y, w, h = s.roi
            if x + w > rgb.shape[1] or y + h > rgb.shape[0]:
                raise LineConfigInvalid("roi", f"{list(s.roi)} does not fit the camera's "
                                        f"{rgb.shape[1]}x{rgb.shape[0]} frames.")
            rgb = rgb[y:y + h, x:x + w]
        if s.pixel_format == "mono":
            return to_mono_rgb(rgb)
        return np.ascontiguousarray(rgb)
