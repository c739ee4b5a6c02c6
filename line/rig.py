"""The line's cameras: opened on demand, triggered together for a step, and reconnected by
themselves when one is lost.

Threading rule: the controller's capture thread calls ``ensure_open`` and ``capture_step``. A lost
camera is handed to a keeper thread that closes it and tries to open it again every
``retry_s``; until it is back, the capture thread does not touch it (``lost`` names it), and when it
is back ``on_back(name)`` is called on the keeper thread (the controller queues it to its own).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from core.errors import CameraUnavailable
from line.cameras.base import CameraSource, TriggerMode
from line.config import CameraSpec, Step
from line.errors import CameraFrameFailed

log = logging.getLogger(__name__)


def open_source(spec: CameraSpec) -> CameraSource:
    """A closed source for ``spec`` (the SDKs are imported when it opens)."""
    if spec.kind == "pylon":
        from line.cameras.pylon import PylonSource
        return PylonSource(spec.serial, spec.settings, spec.name, spec.emulator_images)
    from line.cameras.opencv import OpenCVSource
    return OpenCVSource(spec.device, settings=spec.settings, name=spec.name)


class CameraRig:
    def __init__(self, specs: dict[str, CameraSpec], on_back: Callable[[str], None],
                 make: Callable[[CameraSpec], CameraSource] = open_source,
                 retry_s: float = 1.0) -> None:
        self._specs, self._make, self._on_back, self._retry_s = specs, make, on_back, retry_s
        self._open: dict[str, CameraSource] = {}
        self._lock = threading.Lock()
        self._lost: dict[str, str] = {}            # name -> why
        self._keepers: dict[str, threading.Thread] = {}
        self._stop = threading.Event()

    @property
    def lost(self) -> dict[str, str]:
        with self._lock:
            return dict(self._lost)

    def source(self, name: str) -> CameraSource | None:
        """The open source (for tests that drive the emulator's features), or None."""
        return self._open.get(name)

    def ensure_open(self, names: set[str]) -> None:
        """Open the named cameras that are not open; a camera that cannot be opened is handed to
        its keeper and ``CameraUnavailable`` is raised for the first such camera."""
        first: CameraUnavailable | None = None
        for name in sorted(names):
            if name in self._open or name in self.lost:
                continue
            source = self._make(self._specs[name])
            try:
                source.open()
            except CameraUnavailable as exc:
                self._hand_to_keeper(name, source, str(exc))
                first = first or exc
                continue
            self._open[name] = source
        if first is not None:
            raise first
        lost = self.lost
        if names & lost.keys():
            name = sorted(names & lost.keys())[0]
            raise CameraUnavailable(lost[name])

    def capture_step(self, step: Step) -> dict[str, np.ndarray]:
        """One picture per (camera, side) of ``step``, keyed by side: every camera is triggered,
        then every frame retrieved. ``CameraFrameFailed``: one picture failed, the camera is still
        there. ``CameraUnavailable``: the camera is gone and its keeper reconnects it."""
        cameras = list(dict.fromkeys(name for name, _ in step))
        self.ensure_open(set(cameras))
        current = cameras[0]
        try:
            for current in cameras:
                self._open[current].trigger()
            frames = {}
            for current, side in step:
                frames[side] = self._retrieve(current)
            return frames
        except CameraFrameFailed:
            raise
        except CameraUnavailable as exc:
            self._hand_to_keeper(current, self._open.pop(current), str(exc))
            raise

    def _retrieve(self, name: str) -> np.ndarray:
        source = self._open[name]
        try:
            return source.retrieve()
        except CameraFrameFailed:
            if source.settings.trigger is not TriggerMode.SOFTWARE:
                raise
            log.warning("%s: a broken frame; triggering once more", source.describe())
            return source.capture()

    def _hand_to_keeper(self, name: str, source: CameraSource, why: str) -> None:
        with self._lock:
            self._lost[name] = why
        log.warning("camera %s lost: %s", name, why)
        keeper = threading.Thread(target=self._keep, args=(name, source),
                                  name=f"line-camera-{name}", daemon=True)
        self._keepers[name] = keeper
        keeper.start()

    def _keep(self, name: str, source: CameraSource) -> None:
        attempts = 0
        while not self._stop.is_set():
            try:
                source.close()
            except Exception:  # a lost device may refuse even that
                log.debug("closing lost camera %s failed", name, exc_info=True)
            if attempts:
                self._stop.wait(self._retry_s)
                if self._stop.is_set():
                    return
            attempts += 1
            try:
                source.open()
            except CameraUnavailable as exc:
                with self._lock:
                    self._lost[name] = str(exc)
                continue
            except Exception:  # keep trying; the log has the cause
                log.exception("reopening camera %s failed", name)
                continue
            self._open[name] = source
            with self._lock:
                self._lost.pop(name, None)
            log.info("camera %s reconnected after %d attempt(s)", name, attempts)
            self._on_back(name)
            return

    def close(self) -> None:
        self._stop.set()
        for keeper in list(self._keepers.values()):
            keeper.join(timeout=5)
        for source in list(self._open.values()):
            try:
                source.close()
            except Exception:
                log.exception("closing a camera failed")
        self._open.clear()

