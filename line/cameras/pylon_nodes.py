"""Applying ``CameraSettings`` to a GenICam node map (SFNC names, with the older GigE names as a
fallback: ``ExposureTimeAbs``). Settings a camera cannot take raise ``LineConfigInvalid`` naming
the camera, the setting and the range it accepts.

Threading rule: called by ``PylonSource.open`` on its owner thread.
"""
from __future__ import annotations

import os
from typing import Any

from line.cameras.base import CameraSettings, TriggerMode
from line.cameras.pylon import _COLOUR_FORMATS
from line.errors import LineConfigInvalid


def configure(cam: Any, s: CameraSettings, pylon: Any, genicam: Any, who: str,
              emulator_images: str | None) -> Any:
    """Apply ``s``; returns the SDK's RGB converter for colour frames (None for mono)."""
    nodes = cam.GetNodeMap()

    def node(*names: str) -> Any:
        for name in names:
            n = nodes.GetNode(name)
            if n is not None and genicam.IsAvailable(n):
                return n
        return None

    def writable(n: Any) -> bool:
        return n is not None and genicam.IsWritable(n)

    def set_number(field: str, value: float, *names: str) -> None:
        n = node(*names)
        if not writable(n):
            raise LineConfigInvalid(field, f"the {who} does not let the station set it.")
        low, high = n.GetMin(), n.GetMax()
        if not low <= value <= high:
            raise LineConfigInvalid(field, f"{value} is outside the {who}'s range {low}..{high}.")
        n.SetValue(type(n.GetValue())(value))

    def set_enum(n: Any, value: str) -> None:
        if writable(n) and n.GetValue() != value:
            n.SetValue(value)

    if emulator_images is not None:
        images = node("ImageFilename")
        if images is None:
            raise LineConfigInvalid("emulator_images", f"the {who} is a real camera, not "
                                    "pypylon's emulator; remove emulator_images.")
        if not os.path.isdir(emulator_images):
            raise LineConfigInvalid("emulator_images", f"{emulator_images} is not a folder.")
        images.SetValue(str(emulator_images))
        set_enum(node("ImageFileMode"), "On")
        set_enum(node("TestImageSelector"), "Off")

    # Pixel format first: it changes which sizes and offsets are valid.
    formats = node("PixelFormat")
    available = set(formats.GetSymbolics()) if formats is not None else set()
    if s.pixel_format == "mono":
        if "Mono8" not in available:
            raise LineConfigInvalid("pixel_format", f"the {who} has no Mono8 format.")
        set_enum(formats, "Mono8")
        converter = None
    else:
        chosen = next((f for f in _COLOUR_FORMATS if f in available), None)
        if chosen is None:
            raise LineConfigInvalid("pixel_format", f"the {who} has no colour format the "
                                    f"station knows (it offers {sorted(available)}).")
        set_enum(formats, chosen)
        converter = pylon.ImageFormatConverter()
        converter.OutputPixelFormat = pylon.PixelType_RGB8packed

    if s.roi is not None:
        x, y, w, h = s.roi
        for name in ("OffsetX", "OffsetY"):   # offsets to 0 first: they limit the size
            n = node(name)
            if writable(n):
                n.SetValue(n.GetMin())
        for field, names, value in (("roi width", ("Width",), w), ("roi height", ("Height",), h),
                                    ("roi x", ("OffsetX",), x), ("roi y", ("OffsetY",), y)):
            n = node(*names)
            if n is None or not writable(n):
                if n is not None and n.GetValue() == value:
                    continue
                raise LineConfigInvalid(field, f"the {who} cannot set it.")
            low, high, step = n.GetMin(), n.GetMax(), max(1, n.GetInc())
            if not low <= value <= high or (value - low) % step:
                raise LineConfigInvalid(field, f"{value} does not fit the {who}: {low}..{high} "
                                        f"in steps of {step} (region {list(s.roi)}).")
            n.SetValue(value)

    if s.exposure_us is not None:
        set_enum(node("ExposureAuto"), "Off")
        set_number("exposure_us", s.exposure_us, "ExposureTime", "ExposureTimeAbs")
    if s.gain_db is not None:
        set_enum(node("GainAuto"), "Off")
        set_number("gain_db", s.gain_db, "Gain", "GainAbs")

    selector = node("TriggerSelector")
    if selector is not None and "FrameStart" in selector.GetSymbolics():
        set_enum(selector, "FrameStart")
    mode, source = node("TriggerMode"), node("TriggerSource")
    if s.trigger is TriggerMode.FREE_RUN:
        set_enum(mode, "Off")
    else:
        wanted = "Software" if s.trigger is TriggerMode.SOFTWARE else s.trigger_line
        if mode is None or source is None or wanted not in source.GetSymbolics():
            options = sorted(source.GetSymbolics()) if source is not None else []
            raise LineConfigInvalid("trigger", f"the {who} has no trigger source {wanted!r} "
                                    f"(it offers {options}).")
        set_enum(mode, "On")
        set_enum(source, wanted)
        if s.trigger is TriggerMode.HARDWARE:
            set_enum(node("TriggerActivation"), "RisingEdge")
    return converter
