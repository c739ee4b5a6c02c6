"""Thumbnails for the gallery grid: decoded off the GUI thread, cached as pixmaps.

The grid asks for thumbnails as it paints; a miss queues the file and returns None at once.
Queued files are decoded in batches by one worker task at a time (newest requests first: what
is on screen now), as ``QImage`` (safe off the GUI thread); the GUI thread turns them into
``QPixmap`` and keeps the most recent ``capacity`` of them (LRU).

Threading: ``ThumbnailCache`` lives on the GUI thread; only ``decode_batch`` runs in a worker.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PyQt5.QtCore import QObject, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QImage, QPixmap

from gui.workers import TaskHandle, start_task

BATCH = 24
MAX_QUEUED = 200


def decode_batch(progress, paths: list[Path], size: QSize,
                 fetch: Callable[[Path], Path] | None = None) -> list[tuple[Path, QImage | None]]:
    """Worker side: read and scale each file; a missing or broken file gives None. ``fetch``
    (the station's photo store) brings a thumbnail another station recorded; an unreachable
    store gives None too (the grid shows no picture)."""
    out = []
    for path in paths:
        progress.check()
        try:
            local = fetch(path) if fetch is not None else path
        except Exception:  # noqa: BLE001 - a missing picture, not an error dialog per tile
            out.append((path, None))
            continue
        image = QImage(str(local))
        if image.isNull():
            out.append((path, None))
            continue
        out.append((path, image.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)))
    return out


class ThumbnailCache(QObject):
    """``get(path)`` -> QPixmap or None (then ``ready(path)`` follows once it is decoded)."""

    ready = pyqtSignal(object)      # the Path that now has a pixmap (or is known broken)

    def __init__(self, size: QSize, capacity: int = 600, parent: QObject | None = None,
                 fetch: Callable[[Path], Path] | None = None) -> None:
        super().__init__(parent)
        self.size = size
        self._fetch = fetch
        self._capacity = capacity
        self._pixmaps: OrderedDict[Path, QPixmap | None] = OrderedDict()
        self._queue: OrderedDict[Path, None] = OrderedDict()
        self._task: TaskHandle | None = None

    def get(self, path: Path | None) -> QPixmap | None:
        if path is None:
            return None
        if path in self._pixmaps:
            self._pixmaps.move_to_end(path)
            return self._pixmaps[path]
        self._queue.pop(path, None)
        self._queue[path] = None       # newest last
        while len(self._queue) > MAX_QUEUED:   # scrolled past: those are off screen now
            self._queue.popitem(last=False)
        self._next()
        return None

    def known(self, path: Path) -> bool:
        return path in self._pixmaps

    @property
    def busy(self) -> bool:
        return (self._task is not None and not self._task.done) or bool(self._queue)

    def clear_queue(self) -> None:
        """Forget pending requests (new filters: those rows are gone)."""
        self._queue.clear()

    def _next(self) -> None:
        if (self._task is not None and not self._task.done) or not self._queue:
            return
        batch = list(self._queue)[-BATCH:][::-1]     # the newest requests first
        for path in batch:
            del self._queue[path]
        self._task = start_task(self, decode_batch, batch, self.size, self._fetch, name="thumbnails",
                                on_success=self._arrived, on_finished=self._next)

    def _arrived(self, decoded: list[tuple[Path, QImage | None]]) -> None:
        for path, image in decoded:
            # QPixmap only here, on the GUI thread
            self._pixmaps[path] = None if image is None else QPixmap.fromImage(image)
            while len(self._pixmaps) > self._capacity:
                self._pixmaps.popitem(last=False)
            self.ready.emit(path)
