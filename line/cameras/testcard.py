"""A camera that needs no hardware: cycles through given frames or draws a numbered test card.

For demos and for tests of the GUI's preview (the line's own tests use pypylon's real emulator).
``unplug()`` (thread-safe) makes the next ``read`` fail like a pulled cable; ``fail_open`` makes
``open`` fail like a missing camera.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from core.errors import CameraUnavailable


class TestCardSource:
    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, frames: Sequence[np.ndarray] | None = None, width: int = 320,
                 height: int = 240, fail_open: bool = False) -> None:
        self.frames = [np.ascontiguousarray(f, dtype=np.uint8) for f in (frames or [])]
        self.width, self.height = width, height
        self.fail_open = fail_open
        self._unplugged = threading.Event()
        self.count = 0
        self.closed = False

    def unplug(self) -> None:
        self._unplugged.set()

    def open(self) -> None:
        if self.fail_open:
            raise CameraUnavailable("The camera 'fake' cannot be opened (no such device).")
        self.closed = False

    def read(self) -> np.ndarray | None:
        if self._unplugged.is_set():
            raise CameraUnavailable("The camera 'fake' was unplugged. Captured photos are kept.")
        self.count += 1
        if self.frames:
            return self.frames[(self.count - 1) % len(self.frames)].copy()
        card = np.zeros((self.height, self.width, 3), np.uint8)
        card[..., 0] = (self.count * 7) % 256
        card[:, : self.width // 2, 1] = 200
        return card

    def close(self) -> None:
        self.closed = True
