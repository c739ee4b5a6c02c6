"""gui.workers: success and error paths reach the GUI thread, finished comes last, cancel works,
and no thread is left running."""
from __future__ import annotations

import threading
import time

from PyQt5.QtCore import QObject, QThread

from core.errors import Cancelled, UnreadableImage
from gui import workers


def _record(handle: workers.TaskHandle) -> list:
    events: list = []
    handle.progress.connect(lambda d, t, m: events.append(("progress", d, t, m,
                                                           threading.current_thread())))
    handle.succeeded.connect(lambda r: events.append(("succeeded", r, threading.current_thread())))
    handle.errored.connect(lambda e: events.append(("errored", e, threading.current_thread())))
    handle.finished.connect(lambda: events.append(("finished", threading.current_thread())))
    return events


def test_success_runs_off_the_gui_thread_and_reports_on_it(qtbot):
    seen_thread = {}

    def job(progress, a, b, scale=1):
        seen_thread["job"] = threading.current_thread()
        for i in range(3):
            progress.report(i + 1, 3, f"step {i + 1}")
        return (a + b) * scale

    got = {}
    handle = workers.start_task(None, job, 2, 3, scale=10, on_success=lambda r: got.setdefault("r", r))
    events = _record(handle)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    gui_thread = threading.main_thread()
    assert seen_thread["job"] is not gui_thread
    assert got["r"] == 50 and handle.result == 50 and handle.done
    kinds = [e[0] for e in events]
    assert kinds == ["progress", "progress", "progress", "succeeded", "finished"]
    assert events[2][1:4] == (3, 3, "step 3")
    assert all(e[-1] is gui_thread for e in events)


def test_error_reaches_errored_on_the_gui_thread_then_finished(qtbot):
    def job(progress):
        raise UnreadableImage("x.png", "truncated file")

    errors, successes = [], []
    handle = workers.start_task(None, job, on_error=errors.append, on_success=successes.append)
    events = _record(handle)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert successes == []
    assert len(errors) == 1 and isinstance(errors[0], UnreadableImage)
    assert "truncated file" in str(errors[0])
    assert [e[0] for e in events] == ["errored", "finished"]
    assert events[0][-1] is threading.main_thread()


def test_cancel_stops_a_job_that_checks_progress(qtbot):
    started = threading.Event()

    def job(progress):
        started.set()
        for i in range(10_000):
            progress.check()
            progress.report(i, 10_000, "working")
            time.sleep(0.005)
        return "never"

    errors: list = []
    handle = workers.start_task(None, job, on_error=errors.append)
    assert started.wait(5)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        handle.cancel()
    assert handle.cancelled
    assert len(errors) == 1 and isinstance(errors[0], Cancelled)
    assert handle.wait(5000)
    assert workers.live_threads() == []


def test_deleting_the_parent_cancels_and_silences_the_task(qtbot):
    parent = QObject()
    started = threading.Event()
    stopped = threading.Event()

    progresses: list = []

    def job(progress):
        progresses.append(progress)
        started.set()
        try:
            while True:
                progress.check()
                time.sleep(0.005)
        finally:
            stopped.set()

    called: list = []
    workers.start_task(parent, job, on_error=called.append, on_success=called.append)
    assert started.wait(5)
    assert not progresses[0].cancelled
    parent.deleteLater()
    qtbot.waitUntil(stopped.is_set, timeout=5000)
    assert progresses[0].cancelled         # the job ended because deleting the parent cancelled it
    qtbot.waitUntil(lambda: workers.live_threads() == [], timeout=5000)
    qtbot.wait(50)
    assert called == []  # the handle died with its parent: no callback on a dead panel


def test_registry_tracks_running_threads_and_shutdown_stops_them(qtbot):
    release = threading.Event()

    def job(progress):
        while not progress.cancelled:
            release.wait(0.01)
        return "stopped"

    handle = workers.start_task(None, job, name="long job")
    qtbot.waitUntil(lambda: len(workers.live_threads()) == 1, timeout=5000)
    assert workers.live_thread_names() == ["long job"]
    assert workers.shutdown_all(timeout=5) == []
    assert workers.live_threads() == []
    assert handle.cancelled


def test_register_thread_calls_the_stopper_of_a_long_lived_thread(qtbot):
    thread = QThread()
    stops: list = []
    workers.register_thread(thread, stop=lambda: stops.append(1), name="service")
    thread.start()
    qtbot.waitUntil(thread.isRunning, timeout=5000)
    assert thread in workers.live_threads()
    assert workers.shutdown_all(timeout=5) == []
    assert stops == [1] and thread.isFinished()
