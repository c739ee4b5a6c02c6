"""The line's inspector: ONE thread that owns the loaded models (``core.model.model.Model`` is not
thread-safe), inspects each finished can, and publishes its verdict unless the deadline did first.

A can with an image of no side gets REVIEW without inspection; an incomplete can (a camera lost, the
PLC gone) is inspected on the sides it has and gets at least REVIEW; an inspection that fails gets
REVIEW with the reason. Nothing here ever turns a can into PASS that the model did not pass.

Threading rule: ``load`` and ``submit`` may be called from any thread; they queue work for the
inspector thread, which calls ``publish`` and ``record`` (both must be thread-safe).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import StationError
from core.results import CanResult, Outcome
from line.can import CanJob, make_report, worst
from line.deadline import DeadlineWatch
from line.events import CanReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordJob:
    report: CanReport            # what the PLC was told
    result: CanResult            # what the model said about the captured sides
    verdict: Outcome             # what is recorded: the published verdict
    product_id: int
    reason: str


class Inspector:
    def __init__(self, watch: DeadlineWatch, publish: Callable[[CanReport], None],
                 record: Callable[[RecordJob], None], torch_threads: int = 0,
                 prepare: Callable[[str], str] | None = None) -> None:
        self._watch, self._publish, self._record = watch, publish, record
        self._torch_threads = torch_threads
        # A site model is downloaded and verified (station.site_models.ensure) on this thread,
        # when a product is selected, before its first can.
        self._prepare = prepare
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._models: dict[tuple, Any] = {}
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="line-inspector", daemon=True)

    @property
    def pending(self) -> int:
        """Cans submitted and not yet published or recorded."""
        with self._lock:
            return self._pending

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(("stop", None))
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def load(self, folder: str, thresholds: dict | None) -> Future:
        """Load (or find loaded) the model; the future's result is its name and version."""
        future: Future = Future()
        self._queue.put(("load", (folder, thresholds, future)))
        return future

    def submit(self, job: CanJob) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(("inspect", job))

    # -- the inspector thread --------------------------------------------------------------
    def _run(self) -> None:
        # The engine's first import takes seconds: done now, not when the PLC selects a product
        # (its call would time out) or triggers the first can.
        import core.model.io
        import core.verdict  # noqa: F401
        if self._torch_threads > 0:
            import torch
            torch.set_num_threads(self._torch_threads)
        while True:
            kind, payload = self._queue.get()
            if kind == "stop":
                return
            if kind == "load":
                folder, thresholds, future = payload
                try:
                    model = self._model(folder, thresholds)
                    future.set_result(f"{model.spec.name} {model.spec.version}")
                except BaseException as exc:  # noqa: BLE001 - the caller shows it
                    future.set_exception(exc)
                continue
            try:
                self._inspect(payload)
            except Exception:  # the next can must still be inspected
                log.exception("the line's inspector failed on can %s", payload.can_id)
            finally:
                with self._lock:
                    self._pending -= 1

    def _model(self, folder: str, thresholds: dict | None) -> Any:
        from core.model.io import load_model
        from core.scoring.calibration import Thresholds

        if self._prepare is not None:
            folder = self._prepare(folder)
        path = Path(folder).resolve()
        stamps = tuple(_mtime(path / name) for name in ("model.json", "weights.safetensors"))
        key = (str(path), stamps, tuple(sorted((thresholds or {}).items())))
        model = self._models.get(key)
        if model is None:
            self._models = {k: m for k, m in self._models.items() if k[0] != key[0]}
            model = load_model(path)
            if thresholds:
                model = model.with_thresholds(Thresholds.from_dict(thresholds))
            self._warm_up(model)
            self._models[key] = model
        return model

    @staticmethod
    def _warm_up(model: Any) -> None:
        """One inspection of a blank side: the first forward pass is several times slower
        (allocations, kernel selection) and would make the first can miss its deadline."""
        import numpy as np

        from core.verdict import inspect_can

        size = int(model.spec.input_size)
        started = time.monotonic()
        inspect_can(model, [np.zeros((size, size, 3), np.uint8)], ["warm-up"])
        log.info("model %s warmed up in %.0f ms", model.spec.name,
                 (time.monotonic() - started) * 1000)

    def _inspect(self, job: CanJob) -> None:
        from core.verdict import inspect_can

        reason, result = job.reason, None
        images = job.image_list()
        started = time.monotonic()
        if any(image is not None for image in images):
            try:
                model = self._model(job.selection.model_folder, job.selection.thresholds)
                result = inspect_can(model, images, job.selection.side_names,
                                     recipe=job.selection.region_recipe)
            except StationError as exc:
                reason = _join(reason, f"the inspection failed: {exc}")
            except Exception as exc:  # a can is never passed on an error
                log.exception("inspecting can %s failed", job.can_id)
                reason = _join(reason, f"the inspection failed ({type(exc).__name__}); see the log")
        verdict = result.verdict if result is not None else Outcome.REVIEW
        if reason:
            verdict = worst(verdict, Outcome.REVIEW)
        now = time.monotonic()
        elapsed, inspect_ms = (now - job.clock_from) * 1000.0, (now - started) * 1000.0
        if self._watch.claim(job.can_id):
            report = make_report(job, verdict, result, reason, elapsed, inspect_ms=inspect_ms)
            self._publish(report)
        else:
            late = (f"the verdict ({verdict.value}) came {elapsed:.0f} ms after the last trigger, "
                    f"after the {job.deadline_ms} ms deadline: the can was rejected")
            log.warning("can %s: %s", job.can_id, late)
            report = make_report(job, Outcome.REJECT, result, _join(reason, late), elapsed, True,
                                 inspect_ms)
            verdict, reason = Outcome.REJECT, _join(reason, late)
        if result is not None:
            self._record(RecordJob(report, result, verdict, job.selection.product_id, reason))
        else:
            log.warning("can %s: nothing to record (%s)", job.can_id, reason)


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
