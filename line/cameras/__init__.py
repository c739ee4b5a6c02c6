"""Camera sources: the interface (``base``), OpenCV devices/streams/files (``opencv``), GenICam
cameras through pypylon (``pylon``), and a test card for demos (``testcard``).

``open_source(spec)`` builds one from a ``line.config.CameraSpec``; pypylon and OpenCV are
imported only when such a camera is opened.
"""
from __future__ import annotations

from line.cameras.base import CameraSettings, CameraSource, FrameSource, TriggerMode, to_mono_rgb, to_rgb
from line.cameras.opencv import OpenCVSource
from line.cameras.pylon import PylonSource
from line.cameras.testcard import TestCardSource

__all__ = ["CameraSettings", "CameraSource", "FrameSource", "OpenCVSource", "PylonSource",
           "TestCardSource", "TriggerMode", "to_mono_rgb", "to_rgb"]
