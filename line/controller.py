"""The line's loop: PLC trigger -> capture the step's sides -> inspect -> publish -> record.

``LineController`` is what the PLC servers, the GUI's line panel and ``main.py line`` drive. Its
threads:

* the capture thread (``line.capture.CaptureLoop``) owns the cameras and the open can; every
  request (select a product, trigger a step, reset, a PLC connection lost) is queued to it and
  answered through a ``concurrent.futures.Future``;
* the inspector thread owns the models, inspects finished cans and publishes their verdicts;
* the deadline watch publishes REJECT for a can whose verdict is not ready in time;
* the recorder thread records each can in the database through ``app.recording``.

Threading rule: every public method may be called from any thread. Listeners are called on the
controller's threads, in order, under the controller's lock: they must only hand data over.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from line.cameras.base import CameraSource
from line.capture import CaptureLoop
from line.config import CameraSpec, LineConfig
from line.deadline import DeadlineWatch
from line.events import CanReport, Counters, LineListener, LineState, LineStatus
from line.inspector import Inspector, RecordJob
from line.recorder import Recorder
from line.rig import CameraRig, open_source

log = logging.getLogger("line")

HISTORY = 50


class LineController:
    def __init__(self, station: Any, actor: Any, config: LineConfig, station_name: str, *,
                 make_camera: Callable[[CameraSpec], CameraSource] = open_source,
                 torch_threads: int = 0, camera_retry_s: float = 1.0) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._listeners: list[LineListener] = []
        self._message = "Waiting for the PLC to select a product."
        self._status = LineStatus(LineState.IDLE, self._message)
        self._counters = Counters()
        self._unpublished: set[str] = set()
        self.history: deque[CanReport] = deque(maxlen=HISTORY)
        self._watch = DeadlineWatch()
        self._recorder = Recorder(station, actor, station_name, self._recorded)
        site_models = getattr(station, "site_models", None)
        self._inspector = Inspector(self._watch, self._publish, self._recorder.put, torch_threads,
                                    prepare=site_models.ensure if site_models else None)
        self.rig = CameraRig(config.cameras, on_back=self._camera_back, make=make_camera,
                             retry_s=camera_retry_s)
        self._capture = CaptureLoop(self, station, actor, config, self.rig, self._inspector,
                                    self._watch)
        self._started = False

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._watch.start()
        self._recorder.start()
        self._inspector.start()
        self._capture.start()
        self._started = True
        log.info("line started")

    def stop(self) -> None:
        """Finish the open can as incomplete, inspect and record what is queued, then end."""
        if not self._started:
            return
        self._started = False
        self._capture.stop()
        self._inspector.stop()
        self._recorder.stop()
        self._watch.stop()
        self.rig.close()
        log.info("line stopped")

    # -- requests (any thread) -------------------------------------------------------------
    def select_product(self, sku: str) -> Future:
        """Future of the new ``LineStatus``; ``RequestRefused``/``LineConfigInvalid`` on refusal."""
        return self._capture.request("select", sku)

    def trigger(self, step: int = 0, owner: object = None, arrived: float | None = None) -> Future:
        """Capture step ``step`` (1 starts a can; 0 = the next one). Future of ``StepDone``.

        ``owner`` names the PLC connection (its loss aborts the can); ``arrived`` is the
        ``time.monotonic()`` at which the PLC's request reached the server."""
        return self._capture.request("trigger", (step, owner, arrived))

    def reset(self) -> Future:
        return self._capture.request("reset", None)

    def plc_connected(self, owner: object, description: str) -> None:
        with self._lock:
            self._capture.plc[owner] = description
            self._refresh()
        self.event(f"PLC connected: {description}.")

    def plc_disconnected(self, owner: object) -> None:
        self._capture.request("plc_lost", owner)

    # -- what the line says ----------------------------------------------------------------
    def add_listener(self, listener: LineListener) -> None:
        with self._lock:
            self._listeners.append(listener)
            listener.line_status(self._status)

    def remove_listener(self, listener: LineListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def status(self) -> LineStatus:
        with self._lock:
            return self._status

    def counters(self) -> Counters:
        with self._lock:
            return self._counters

    def event(self, message: str, level: int = logging.INFO) -> None:
        log.log(level, message)
        with self._lock:
            self._message = message
            for listener in self._listeners:
                listener.line_event(message, level)
            self._refresh()

    # -- called by the capture loop, the inspector, the watch and the recorder --------------
    def _refresh(self) -> None:
        """Recompute the state; tell the listeners if it changed. Under the lock."""
        with self._lock:
            c = self._capture
            lost = self.rig.lost
            can = c.can
            if lost:
                state = LineState.ERROR
                name = sorted(lost)[0]
                message = f"Camera {name} lost: {lost[name]}"
            elif c.error:
                state, message = LineState.ERROR, c.error
            elif c.selection is None:
                state, message = LineState.IDLE, self._message
            elif c.preparing:
                state, message = LineState.BUSY, c.preparing
            elif can is not None or self._unpublished:
                state, message = LineState.BUSY, self._message
            else:
                state, message = LineState.READY, self._message
            status = LineStatus(
                state=state, message=message,
                product_sku=c.selection.sku if c.selection else "",
                steps_per_can=len(c.selection.steps) if c.selection else 0,
                step=can.steps_done if can else 0, can_id=can.can_id if can else "",
                plc=tuple(sorted(c.plc.values())), lost_cameras=tuple(sorted(lost)))
            if status != self._status:
                self._status = status
                for listener in self._listeners:
                    listener.line_status(status)

    def _submitted(self, can_id: str) -> None:
        with self._lock:
            self._unpublished.add(can_id)

    def _publish(self, report: CanReport) -> None:
        with self._lock:
            c = self._counters
            self._counters = replace(
                c, passed=c.passed + (report.verdict.value == "pass"),
                review=c.review + (report.verdict.value == "review"),
                rejected=c.rejected + (report.verdict.value == "reject"),
                deadline_missed=c.deadline_missed + report.deadline_missed)
            self._unpublished.discard(report.can_id)
            self.history.append(report)
            for listener in self._listeners:
                listener.can_published(report, self._counters)
            self._refresh()
        if report.reason:
            log.warning("can %s #%d %s: %s", report.can_id, report.number, report.verdict.value,
                        report.reason)

    def _recorded(self, job: RecordJob, inspection_id: int | None,
                  error: BaseException | None) -> None:
        report = replace(job.report, inspection_id=inspection_id)
        with self._lock:
            c = self._counters
            self._counters = replace(c, recorded=c.recorded + (error is None),
                                     record_failed=c.record_failed + (error is not None))
            for listener in self._listeners:
                listener.can_recorded(report, self._counters)
        if error is not None:
            self.event(f"Can #{report.number} ({report.verdict.value}) was not recorded: {error}",
                       logging.ERROR)

    def _camera_back(self, name: str) -> None:
        self.event(f"Camera {name} reconnected.")
