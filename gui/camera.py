"""Camera frames for the live preview: ``CameraFeed`` grabs frames of a ``FrameSource`` in its own
thread. The sources themselves are Qt-free and live in ``line.cameras`` (OpenCV devices, streams
and files; GenICam cameras; a test card); their names are re-exported here for the GUI's callers.

Threading rule: a source is opened, read and closed only on the feed's grab thread (OpenCV capture
objects are not thread-safe). The grab thread sends each frame to the GUI thread as a QImage that owns
its buffer (a copy: the numpy array behind it is reused by OpenCV), and keeps the newest frame as a
numpy array that ``CameraFeed.latest_frame`` hands out under a lock. QPixmaps are built by the widget,
on the GUI thread.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot
from PyQt5.QtGui import QImage

from core.errors import CameraUnavailable
from gui.workers import register_thread
from line.cameras import FrameSource, OpenCVSource
from line.cameras import TestCardSource as FakeSource

__all__ = ["CameraFeed", "FakeSource", "FrameSource", "OpenCVSource", "frame_to_qimage"]

log = logging.getLogger(__name__)


def frame_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of ``rgb`` (safe to send across threads and to keep)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class _Grabber(QObject):
    frame = pyqtSignal(QImage)
    lost = pyqtSignal(str)
    opened = pyqtSignal()
    finished = pyqtSignal()

    def __init__(self, source: FrameSource, fps: float, on_frame: Callable[[np.ndarray], None]) -> None:
        super().__init__()
        self._source, self._period = source, 1.0 / max(fps, 1.0)
        self._on_frame = on_frame
        self.stop_event = threading.Event()

    @pyqtSlot()
    def run(self) -> None:
        try:
            self._source.open()
            self.opened.emit()
            while not self.stop_event.is_set():
                t0 = time.monotonic()
                rgb = self._source.read()
                if rgb is not None:
                    self._on_frame(rgb)
                    self.frame.emit(frame_to_qimage(rgb))
                # Capped rate: the preview needs ~15 fps, and every frame costs the GUI a repaint.
                self.stop_event.wait(max(0.0, self._period - (time.monotonic() - t0)))
        except CameraUnavailable as exc:
            self.lost.emit(str(exc))
        except Exception as exc:  # any driver failure must reach the operator
            log.exception("camera failed")
            self.lost.emit(f"The camera failed: {exc}. Captured photos are kept.")
        finally:
            try:
                self._source.close()
            except Exception:
                log.exception("closing the camera failed")
            self.finished.emit()


class CameraFeed(QObject):
    """Owns the grab thread. Create, ``start()`` and ``stop()`` on the GUI thread.

    ``frame(QImage)``, ``lost(message)`` and ``opened()`` arrive on the GUI thread (queued).
    """

    frame = pyqtSignal(QImage)
    lost = pyqtSignal(str)
    opened = pyqtSignal()

    def __init__(self, source_factory: Callable[[], FrameSource], fps: float = 15.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory, self._fps = source_factory, fps
        self._thread: QThread | None = None
        self._grabber: _Grabber | None = None
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self) -> None:
        self.stop()
        with self._lock:
            self._latest = None
        grabber = _Grabber(self._factory(), self._fps, self._keep_latest)
        thread = QThread()
        thread.setObjectName("camera")
        grabber.moveToThread(thread)
        grabber.frame.connect(self.frame)
        grabber.lost.connect(self.lost)
        grabber.opened.connect(self.opened)
        grabber.finished.connect(thread.quit, Qt.DirectConnection)  # ends even if the GUI is busy
        thread.started.connect(grabber.run)
        register_thread(thread, stop=grabber.stop_event.set, keep=(grabber,), name="camera")
        self._thread, self._grabber = thread, grabber
        thread.start()

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop grabbing and wait for the thread (a read blocks at most one frame period)."""
        if self._grabber is not None:
            self._grabber.stop_event.set()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(timeout_ms)
        self._thread = self._grabber = None

    def latest_frame(self) -> np.ndarray | None:
        """The newest frame as RGB numpy (a copy), or None before the first one. Any thread."""
        with self._lock:
            return None if self._latest is None else self._latest.copy()

    def _keep_latest(self, rgb: np.ndarray) -> None:  # grab thread
        with self._lock:
            self._latest = rgb


def list_cameras(sys_root: str = "/sys/class/video4linux",
                 dev_root: str = "/dev") -> list[tuple[str, str]]:
    """The cameras this machine shows, as (device, what a person reads), on Linux from
    video4linux (``/dev/videoN`` with the driver's name); elsewhere the first OpenCV indices.
    Nothing is opened: opening a camera can take seconds and would take it from its user."""
    import glob
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return [(str(i), f"Camera {i}") for i in range(3)]
    found = []
    for path in sorted(glob.glob(os.path.join(dev_root, "video*")),
                       key=lambda p: (len(p), p)):
        name = os.path.basename(path)
        try:
            with open(os.path.join(sys_root, name, "name"), encoding="utf-8") as fh:
                label = fh.read().strip()
        except OSError:
            label = "camera"
        found.append((path, f"{label} ({path})"))
    return found
