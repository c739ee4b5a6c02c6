"""Progress and cancellation for long jobs (training, evaluation, building a memory bank).

A long job is a plain function that takes a ``Progress``; it calls ``report`` as it goes and
``check`` at safe points (every batch). The same function runs from the CLI, a test or a GUI
worker. Thread-safe: ``cancel`` may be called from any thread while the job runs on another.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

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


@contextlib.contextmanager
def console_progress(stream: TextIO | None = None) -> Iterator[Progress]:
    """A ``Progress`` drawn as a tqdm bar on ``stream`` (stderr) for a command-line job.

    The first Ctrl-C cancels the job at its next ``check`` (it then raises ``Cancelled``); a second
    one interrupts at once. Main thread only (signal handlers); the bar is closed on the way out.
    """
    from tqdm import tqdm

    bar = tqdm(total=1, unit="step", file=stream or sys.stderr, dynamic_ncols=True)

    def show(done: int, total: int, message: str) -> None:
        bar.total = max(total, 1)
        bar.n = done
        bar.set_description(message, refresh=False)
        bar.refresh()

    progress = Progress(show)
    previous = signal.getsignal(signal.SIGINT)

    def first_interrupt(signum: int, frame: object) -> None:
        progress.cancel()
        signal.signal(signal.SIGINT, previous)

    on_main = threading.current_thread() is threading.main_thread()
    if on_main:
        signal.signal(signal.SIGINT, first_interrupt)
    try:
        yield progress
    finally:
        bar.close()
        if on_main:
            signal.signal(signal.SIGINT, previous)
