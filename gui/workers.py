"""Run long, plain functions off the GUI thread, and keep a registry of the threads doing it.

Threading rule (the whole GUI follows it):

* The GUI thread only builds widgets, reacts to signals and starts work; anything that may take
  longer than a few milliseconds (loading images, torch, training, evaluation, writing a database
  row with its files) runs in a worker thread.
* A worker never touches a widget. It reports through Qt signals only; ``start_task`` delivers them
  to a ``TaskHandle`` that lives on the GUI thread with an explicit ``Qt.QueuedConnection``, so the
  callbacks always run on the GUI thread, whatever the callable does.
* Every worker ends with exactly one of ``succeeded(result)`` or ``errored(exc)`` and then, always
  and last, ``finished()`` (try/except/finally in ``Worker.run``): a failure can never leave the UI
  waiting forever.
* Every thread that the GUI starts (tasks, the inference service, the camera) is registered here, so
  the application can stop them at exit with ``shutdown_all`` and the tests can fail when one is left
  running (``live_threads``).

The registry is process-wide on purpose: it is bookkeeping about OS threads, which are process-wide
themselves; it holds no model, session or user.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

from core.progress import Progress

log = logging.getLogger(__name__)


class Worker(QObject):
    """Runs ``fn(*args, **kwargs)`` once, in whatever thread the worker was moved to.

    Signals are emitted from that thread; connect to them with a queued connection (``start_task``
    does) to get them on the GUI thread.
    """

    progress = pyqtSignal(int, int, str)
    succeeded = pyqtSignal(object)
    errored = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    @pyqtSlot()
    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI, even SystemExit
            if not isinstance(exc, Exception):
                log.warning("worker %r stopped by %r", self._fn, exc)
            self.errored.emit(exc)
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()


# --------------------------------------------------------------------------------------------
# Registry of live threads
# --------------------------------------------------------------------------------------------

@dataclass
class _Entry:
    thread: QThread
    stop: Callable[[], None] | None   # asks the thread's work to end (cancel a job, stop a loop)
    keep: tuple                       # Python references that must outlive the thread (worker...)
    name: str


_registry: dict[int, _Entry] = {}
_registry_lock = threading.Lock()


def register_thread(thread: QThread, *, stop: Callable[[], None] | None = None,
                    keep: tuple = (), name: str = "") -> None:
    """Track ``thread`` until it has finished. ``stop`` is called by ``shutdown_all``.

    ``keep`` holds objects (the worker) alive as long as the thread runs: a QObject collected by
    Python while its thread still uses it crashes the process.
    """
    with _registry_lock:
        _registry[id(thread)] = _Entry(thread, stop, keep, name or thread.objectName())


def _prune() -> None:
    with _registry_lock:
        for key in [k for k, e in _registry.items() if e.thread.isFinished()]:
            del _registry[key]


def live_threads() -> list[QThread]:
    """The registered threads that are still running (started and not finished)."""
    _prune()
    with _registry_lock:
        return [e.thread for e in _registry.values() if e.thread.isRunning()]


def live_thread_names() -> list[str]:
    """For messages in tests and logs."""
    _prune()
    with _registry_lock:
        return [e.name or repr(e.thread) for e in _registry.values() if e.thread.isRunning()]


def shutdown_all(timeout: float = 5.0) -> list[QThread]:
    """Ask every registered thread to stop, wait up to ``timeout`` seconds in all; GUI thread only.

    Returns the threads still running afterwards (empty when all stopped). A job that never calls
    ``Progress.check`` cannot be interrupted; it is left running and reported here.
    """
    with _registry_lock:
        entries = list(_registry.values())
    for entry in entries:
        try:
            if entry.stop is not None:
                entry.stop()
        except Exception:  # one bad stopper must not keep the others running
            log.exception("stopping thread %s failed", entry.name)
        entry.thread.quit()
    deadline = time.monotonic() + timeout
    for entry in entries:
        remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
        entry.thread.wait(remaining_ms)
    left = live_threads()
    if left:
        log.warning("threads still running after shutdown: %s", live_thread_names())
    return left


# --------------------------------------------------------------------------------------------
# start_task: one job, one thread, callbacks on the GUI thread
# --------------------------------------------------------------------------------------------

class TaskHandle(QObject):
    """The GUI-thread side of a running task. Lives on the thread that called ``start_task``.

    Its signals mirror the worker's and are always emitted on the GUI thread; ``finished`` comes
    last. Deleting the parent cancels the task and drops its callbacks.
    """

    progress = pyqtSignal(int, int, str)
    succeeded = pyqtSignal(object)
    errored = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, parent: QObject | None, progress: Progress, thread: QThread) -> None:
        super().__init__(parent)
        self._job_progress = progress
        self._thread = thread
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        """Ask the job to stop at its next ``Progress.check()``; it then errors with ``Cancelled``."""
        self._job_progress.cancel()

    @property
    def cancelled(self) -> bool:
        return self._job_progress.cancelled

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the thread has ended (tests, shutdown). Queued callbacks still need the loop."""
        return self._thread.wait(timeout_ms)

    @pyqtSlot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.emit(done, total, message)

    @pyqtSlot(object)
    def _on_succeeded(self, result: object) -> None:
        self.result = result
        self.succeeded.emit(result)

    @pyqtSlot(object)
    def _on_errored(self, exc: object) -> None:
        self.error = exc  # type: ignore[assignment]
        self.errored.emit(exc)

    @pyqtSlot()
    def _on_finished(self) -> None:
        self.done = True
        self.finished.emit()


def start_task(parent: QObject | None, fn: Callable[..., Any], *args: Any,
               on_success: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None,
               on_finished: Callable[[], None] | None = None,
               name: str = "", **kwargs: Any) -> TaskHandle:
    """Run ``fn(progress, *args, **kwargs)`` in a new thread; call this on the GUI thread.

    ``progress`` is a ``core.progress.Progress`` whose reports arrive as ``on_progress`` and whose
    ``cancel`` is ``TaskHandle.cancel``. Exactly one of ``on_success(result)`` / ``on_error(exc)``
    runs, then ``on_finished()``; all on the GUI thread.
    """
    thread = QThread()
    thread.setObjectName(name or getattr(fn, "__name__", "task"))
    worker = Worker(lambda: fn(job_progress, *args, **kwargs))
    # The callback runs on the worker thread; emitting a signal is the thread-safe way out.
    job_progress = Progress(worker.progress.emit)
    handle = TaskHandle(parent, job_progress, thread)
    worker.moveToThread(thread)

    queued = Qt.QueuedConnection
    worker.progress.connect(handle._on_progress, queued)
    worker.succeeded.connect(handle._on_succeeded, queued)
    worker.errored.connect(handle._on_errored, queued)
    worker.finished.connect(handle._on_finished, queued)
    # Direct: QThread.quit is thread-safe, and the thread must end even if the GUI loop is blocked
    # (a test or shutdown waiting on it); an auto connection would queue it to the GUI thread.
    worker.finished.connect(thread.quit, Qt.DirectConnection)
    thread.started.connect(worker.run)
    if on_progress is not None:
        handle.progress.connect(on_progress)
    if on_success is not None:
        handle.succeeded.connect(on_success)
    if on_error is not None:
        handle.errored.connect(on_error)
    if on_finished is not None:
        handle.finished.connect(on_finished)
    if parent is not None:
        # A closed panel must not keep a training run going for nobody.
        parent.destroyed.connect(job_progress.cancel)

    register_thread(thread, stop=job_progress.cancel, keep=(worker, handle), name=thread.objectName())
    thread.start()
    return handle
