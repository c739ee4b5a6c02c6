"""The line's capture thread: the PLC's requests, one at a time, and the open can.

A can opens at step 1 and is handed to the inspector when its last step is captured. It is cut
short (inspected on the sides it has, at least REVIEW, the reason published and logged) when a
camera fails or is lost mid-can, when the PLC's connection that runs it is lost, when no trigger
comes for ``step_timeout_s``, when the PLC restarts at step 1, selects another product or resets,
and when the line stops. Nothing that goes wrong turns into a PASS.

Threading rule: ``request`` from any thread; everything else runs on the capture thread, and
changes the state the controller reads (``selection``, ``can``, ``error``, ``plc``) under the
controller's lock.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from common.errors import PersonFacingError
from core.errors import CameraUnavailable
from core.results import Outcome
from line.can import CanInProgress, CanJob, Selection, describe_missing, make_report
from line.config import LineConfig
from line.errors import CameraFrameFailed, LineConfigInvalid, RequestRefused
from line.events import LineStatus, StepDone

if TYPE_CHECKING:
    from line.controller import LineController
    from line.deadline import DeadlineWatch
    from line.inspector import Inspector
    from line.rig import CameraRig

log = logging.getLogger("line")



class CaptureLoop:
    def __init__(self, owner: LineController, station: Any, actor: Any, config: LineConfig,
                 rig: CameraRig, inspector: Inspector, watch: DeadlineWatch) -> None:
        self._c, self._station, self._actor, self._config = owner, station, actor, config
        self._rig, self._inspector, self._watch = rig, inspector, watch
        self._queue: queue.Queue[tuple[str, Any, Future | None]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="line-capture", daemon=True)
        self.selection: Selection | None = None
        self.can: CanInProgress | None = None
        self.can_owner: object = None
        self.error = ""
        self.preparing = ""           # non-empty while the selected product's model loads
        self.plc: dict[object, str] = {}
        self._number = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.request("stop", None)
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def request(self, kind: str, payload: Any) -> Future:
        future: Future = Future()
        self._queue.put((kind, payload, future))
        return future

    # -- the capture thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            timeout = None
            if self.can is not None:
                timeout = max(0.0, self.can.last_trigger + self._config.step_timeout_s
                              - time.monotonic())
            try:
                kind, payload, future = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._abort(f"no trigger came for {self._config.step_timeout_s:g} s after "
                            f"{self._progress()} (the PLC stopped or its connection was lost)")
                continue
            if kind == "stop":
                self._abort("the station stopped the line")
                if future is not None:
                    future.set_result(None)
                return
            try:
                result = getattr(self, f"_on_{kind}")(payload)
            except BaseException as exc:  # every refusal goes back to the caller
                if future is not None:
                    if not isinstance(exc, PersonFacingError):
                        log.warning("line request %s failed", kind, exc_info=True)
                    future.set_exception(exc)
                else:
                    log.exception("the line's %s failed", kind)
            else:
                if future is not None:
                    future.set_result(result)
            self._c._refresh()

    def _on_select(self, sku: str) -> LineStatus:
        """Check the product now (the PLC's call gets refusals at once); load its model and open
        its cameras afterwards, without keeping the PLC's call waiting: BUSY until READY."""
        sku = str(sku).strip()
        self._abort(f"the PLC selected product {sku}")
        selection, model = Selection.resolve(self._station, self._actor, self._config, sku)
        with self._c._lock:
            self.selection, self.error = selection, ""
            self.preparing = f"Preparing product {selection.sku}: loading model {model.name} " \
                             f"{model.version} and opening the cameras."
        self._queue.put(("open_cameras", selection, None))
        loading = self._inspector.load(selection.model_folder, selection.thresholds)
        loading.add_done_callback(
            lambda f: self._queue.put(("model_ready", (selection, f), None)))
        self._c._refresh()
        return self._c.status()

    def _on_open_cameras(self, selection: Selection) -> None:
        if selection is not self.selection:
            return
        try:
            self._open_cameras()
        except RequestRefused as exc:
            log.warning("%s", exc)   # the rig's keeper reconnects; the state says ERROR
        except LineConfigInvalid as exc:   # settings the camera cannot take: a person must act
            with self._c._lock:
                self.error = str(exc)

    def _on_model_ready(self, payload: tuple[Selection, Future]) -> None:
        selection, loading = payload
        if selection is not self.selection:
            return   # the PLC selected another product meanwhile
        try:
            loaded = loading.result()
        except BaseException as exc:  # noqa: BLE001 - the state shows it; the PLC resets
            with self._c._lock:
                self.preparing = ""
                self.error = f"The model for product {selection.sku} cannot be used: {exc}"
            return
        with self._c._lock:
            self.preparing = ""
        self._c.event(f"Product {selection.sku} ready: {len(selection.steps)} steps per can, "
                      f"model {loaded}.")

    def _on_trigger(self, payload: tuple[int, object, float | None]) -> StepDone:
        step, owner, arrived = payload
        arrived = time.monotonic() if arrived is None else arrived
        sel = self.selection
        if sel is None:
            raise RequestRefused("no-product", "No product is selected: the PLC selects one first.")
        lost = self._rig.lost
        if lost:
            name = sorted(lost)[0]
            raise RequestRefused("camera-lost", f"Camera {name} is lost ({lost[name]}); the "
                                 "station is reconnecting it.")
        if self.error:
            raise RequestRefused("error", self.error)
        if self.preparing:
            raise RequestRefused("preparing", self.preparing)
        n = len(sel.steps)
        expected = self.can.steps_done + 1 if self.can is not None else 1
        step = int(step) or expected
        if step == 1 and self.can is not None:
            self._abort(f"the PLC started a new can at step 1 after {self._progress()}")
            expected = 1
        if step != expected or step > n:
            if self.can is None:
                raise RequestRefused("wrong-step", f"No can is open: step 1 starts a can (the "
                                     f"PLC asked for step {step} of {n}).")
            raise RequestRefused("wrong-step", f"Step {expected} of {n} is next for can "
                                 f"#{self.can.number} (the PLC asked for step {step}).")
        if self.can is None:
            self._number += 1
            with self._c._lock:
                self.can = CanInProgress(number=self._number, selection=sel)
                self.can_owner = owner
        can = self.can
        can.last_trigger = arrived
        sides = sel.steps[step - 1]
        try:
            frames = self._rig.capture_step(sides)
        except CameraUnavailable as exc:
            what = ", ".join(side for _, side in sides)
            self._abort(f"{exc} (while capturing {what}: step {step} of {n})")
            code = "camera-failed" if isinstance(exc, CameraFrameFailed) else "camera-lost"
            raise RequestRefused(code, str(exc)) from exc
        except BaseException as exc:   # settings a camera refuses...: no can is left dangling
            self._abort(f"the capture failed at step {step} of {n}: {exc}")
            raise
        with self._c._lock:
            can.images.update(frames)
            can.steps_done = step
        done = StepDone(can_id=can.can_id, number=can.number, step=step, steps_per_can=n,
                        sides=tuple(side for _, side in sides))
        if can.complete:
            self._hand_over(can.finish("", self._config.deadline_ms, can.last_trigger))
        return done

    def _on_reset(self, _: Any) -> LineStatus:
        self._abort("the PLC reset the station")
        with self._c._lock:
            self.error = ""
        self._open_cameras()
        self._c.event("Reset by the PLC.")
        return self._c.status()

    def _on_plc_lost(self, owner: object) -> None:
        with self._c._lock:
            description = self.plc.pop(owner, "the PLC")
        if self.can is not None and self.can_owner is owner:
            self._abort(f"the connection of {description} was lost after {self._progress()}")
        self._c.event(f"PLC disconnected: {description}.", logging.WARNING)

    # -- helpers ---------------------------------------------------------------------------
    def _open_cameras(self) -> None:
        if self.selection is None:
            return
        try:
            self._rig.ensure_open({cam for step in self.selection.steps for cam, _ in step})
        except CameraUnavailable as exc:
            raise RequestRefused("camera-lost", f"{exc} The station keeps trying to reconnect "
                                 "it.") from exc

    def _progress(self) -> str:
        can = self.can
        if can is None:
            return "no step"
        return f"step {can.steps_done} of {len(can.selection.steps)} of can #{can.number}"

    def _abort(self, why: str) -> None:
        """Cut the open can short: what it has is inspected, and it gets at least REVIEW."""
        can = self.can
        if can is None:
            return
        with self._c._lock:
            self.can, self.can_owner = None, None
        missing = describe_missing(can.selection.side_names, can.images)
        reason = f"can incomplete: {why}" + (f"; not captured: {missing}" if missing else "")
        self._c.event(f"Can #{can.number} cut short: {why}.", logging.WARNING)
        self._hand_over(can.finish(reason, self._config.deadline_ms, time.monotonic()))

    def _hand_over(self, job: CanJob) -> None:
        with self._c._lock:
            if self.can is not None and self.can.can_id == job.can_id:
                self.can, self.can_owner = None, None
        self._c._submitted(job.can_id)
        at = job.clock_from + job.deadline_ms / 1000.0
        self._watch.arm(job.can_id, at, lambda _key: self._deadline_missed(job))
        self._inspector.submit(job)

    def _deadline_missed(self, job: CanJob) -> None:
        """On the watch's thread: the verdict is late, so the PLC is told REJECT now."""
        elapsed = (time.monotonic() - job.clock_from) * 1000.0
        reason = f"no verdict within the {job.deadline_ms} ms deadline: rejected"
        if job.reason:
            reason = f"{job.reason}; {reason}"
        self._c._publish(make_report(job, Outcome.REJECT, None, reason, elapsed, True))
