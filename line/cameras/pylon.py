"""A GenICam camera (GigE Vision, USB3 Vision) through Basler's pypylon SDK.

Settings: exposure, gain, pixel format (mono or colour; colour frames of any sensor format are
converted to RGB by the SDK), region of interest, and the trigger: free-run, software (the station
fires the trigger when the PLC asks) or hardware (a line input; the PLC or a light barrier pulses
it, and ``retrieve`` waits for that frame).

pypylon's camera emulator (``PYLON_CAMEMU=N`` in the environment before pypylon is imported)
gives N cameras "0815-0000"...; ``emulator_images`` makes one play the images of a folder, in
file-name order, over and over (its ``ImageFilename``/``ImageFileMode`` features). The tests and
``benchmarks/bench_line.py`` run the real SDK that way.

Threading rule: one owner thread at a time. A camera found removed (``IsCameraDeviceRemoved``,
e.g. a pulled cable) raises ``CameraUnavailable``; the owner then calls ``close`` and ``open``
again to reconnect (the device is found again by its serial number).
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from core.errors import CameraUnavailable
from line.cameras.base import CameraSettings, TriggerMode, to_rgb
from line.errors import CameraFrameFailed

log = logging.getLogger(__name__)

# Colour formats a sensor may offer, most direct first; the SDK's converter makes RGB of each.
_COLOUR_FORMATS = ("RGB8", "RGB8Packed", "BGR8", "BGR8Packed", "BayerRG8", "BayerBG8",
                   "BayerGR8", "BayerGB8", "YCbCr422_8", "YUV422Packed")


def _pylon() -> tuple[Any, Any]:
    try:
        from pypylon import genicam, pylon
    except ImportError as exc:  # the package is a dependency; a broken install must still say so
        raise CameraUnavailable("The GenICam camera driver (pypylon) is not installed: "
                                f"{exc}. Reinstall the station's packages.") from exc
    return pylon, genicam


class PylonSource:
    """``serial`` picks the camera (None: the first one found)."""

    def __init__(self, serial: str | None = None, settings: CameraSettings | None = None,
                 name: str = "", emulator_images: str | None = None) -> None:
        self.serial = serial
        self.settings = settings or CameraSettings()
        self.name = name or (serial or "pylon")
        self.emulator_images = emulator_images
        self._cam: Any = None
        self._converter: Any = None
        self._mono = self.settings.pixel_format == "mono"

    # -- life cycle ------------------------------------------------------------------------
    def describe(self) -> str:
        serial = f" (serial {self.serial})" if self.serial and self.serial != self.name else ""
        return f"camera '{self.name}'{serial}"

    @property
    def camera(self) -> Any:
        """The pypylon ``InstantCamera`` (None when closed): for the owner thread, and for tests
        that drive the emulator's own features (e.g. its device-removal event)."""
        return self._cam

    def open(self) -> None:
        pylon, genicam = _pylon()
        factory = pylon.TlFactory.GetInstance()
        try:
            if self.serial:
                info = pylon.DeviceInfo()
                info.SetSerialNumber(self.serial)
                device = factory.CreateDevice(info)
            else:
                found = factory.EnumerateDevices()
                if not found:
                    raise CameraUnavailable("No GenICam camera was found. Check its cable and "
                                            "power, and that no other program uses it.")
                device = factory.CreateDevice(found[0])
            cam = pylon.InstantCamera(device)
            cam.Open()
        except genicam.GenericException as exc:
            raise CameraUnavailable(f"The {self.describe()} cannot be opened: {_text(exc)}. "
                                    "Check its cable and power, and that no other program "
                                    "uses it.") from exc
        self._cam = cam
        try:
            self._configure(cam, pylon, genicam)
            strategy = (pylon.GrabStrategy_LatestImageOnly
                        if self.settings.trigger is TriggerMode.FREE_RUN
                        else pylon.GrabStrategy_OneByOne)
            cam.StartGrabbing(strategy)
        except genicam.GenericException as exc:
            self.close()
            raise CameraUnavailable(f"The {self.describe()} refused its settings: "
                                    f"{_text(exc)}.") from exc
        except BaseException:
            self.close()
            raise
        log.info("opened %s: %s", self.describe(), cam.GetDeviceInfo().GetFriendlyName())

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return
        _, genicam = _pylon()
        try:
            if cam.IsGrabbing():
                cam.StopGrabbing()
            cam.Close()
        except genicam.GenericException:
            pass  # a removed device cannot be stopped cleanly; destroying it is what matters
        finally:
            cam.DestroyDevice()

    # -- frames ----------------------------------------------------------------------------
    def trigger(self) -> None:
        if self.settings.trigger is not TriggerMode.SOFTWARE:
            return
        pylon, genicam = _pylon()
        cam = self._live()
        try:
            ready = cam.WaitForFrameTriggerReady(self.settings.frame_timeout_ms,
                                                 pylon.TimeoutHandling_Return)
            if not ready:
                raise CameraFrameFailed(f"The {self.describe()} was not ready for a trigger "
                                        f"within {self.settings.frame_timeout_ms} ms.")
            cam.ExecuteSoftwareTrigger()
        except genicam.GenericException as exc:
            raise self._lost_or(exc) from exc

    def retrieve(self, timeout_ms: int | None = None) -> np.ndarray:
        pylon, genicam = _pylon()
        cam = self._live()
        timeout = int(timeout_ms or self.settings.frame_timeout_ms)
        try:
            result = cam.RetrieveResult(timeout, pylon.TimeoutHandling_Return)
        except genicam.GenericException as exc:
            raise self._lost_or(exc) from exc
        if result is None or not result.IsValid():
            self._live()  # a removed camera explains the missing frame best
            hint = (f" Check the wiring of its trigger input {self.settings.trigger_line}."
                    if self.settings.trigger is TriggerMode.HARDWARE else "")
            raise CameraFrameFailed(f"The {self.describe()} sent no picture within "
                                    f"{timeout} ms.{hint}")
        try:
            if not result.GrabSucceeded():
                raise CameraFrameFailed(f"The {self.describe()} sent a broken picture: "
                                        f"{result.GetErrorDescription()}.")
            if self._converter is not None:
                frame = self._converter.Convert(result).GetArray()
            else:
                frame = result.GetArray()
            return to_rgb(frame)
        finally:
            result.Release()

    def capture(self, timeout_ms: int | None = None) -> np.ndarray:
        self.trigger()
        return self.retrieve(timeout_ms)

    def read(self) -> np.ndarray | None:
        """The live preview: free-run frames as they come; triggered cameras show nothing."""
        if self.settings.trigger is not TriggerMode.FREE_RUN:
            self._live()
            return None
        try:
            return self.retrieve(200)
        except CameraFrameFailed:
            return None

    # -- helpers ---------------------------------------------------------------------------
    def _live(self) -> Any:
        cam = self._cam
        if cam is None:
            raise CameraUnavailable(f"The {self.describe()} is not open.")
        if cam.IsCameraDeviceRemoved():
            raise CameraUnavailable(f"The {self.describe()} was disconnected (cable, power or "
                                    "network). The station reconnects when it is back.")
        return cam

    def _lost_or(self, exc: Exception) -> CameraUnavailable:
        if self._cam is not None and self._cam.IsCameraDeviceRemoved():
            return CameraUnavailable(f"The {self.describe()} was disconnected: {_text(exc)}.")
        return CameraFrameFailed(f"The {self.describe()} failed: {_text(exc)}.")

    def _configure(self, cam: Any, pylon: Any, genicam: Any) -> None:
        from line.cameras.pylon_nodes import configure

        self._converter = configure(cam, self.settings, pylon, genicam, self.describe(),
                                    self.emulator_images)


def _text(exc: BaseException) -> str:
    """pypylon's messages end with the C++ file and line; the person needs the first part."""
    text = str(exc).strip()
    return text.split(" : ")[0].split(" (file ")[0].rstrip(". ") or type(exc).__name__
