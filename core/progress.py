"""Progress and cancellation for long jobs (training, evaluation, building a memory bank).

A long job is a plain function that takes a ``Progress``; it calls ``report`` as it goes and
``check`` at safe points (every batch). The same function runs from the CLI, a test or a GUI
worker. Thread-safe: ``cancel`` may be called from any thread while the job runs on another.
"""
from __future__ import annotations

import threading
from typing import Callable

from core.errors import Cancelled

ProgressCallback = Callable[[int, int, str], None]


class Progress:
    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._cancel = threading.Event()

    def report(self, done: int, total: int, message: str = "") -> None:
        """Called on the job's thread; the callback runs there too (a GUI forwards it by signal)."""
        if self._callback is not None:
            self._callback(done, total, message)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise ``Cancelled`` if someone asked the job to stop."""
        if self._cancel.is_set():
            raise Cancelled()
