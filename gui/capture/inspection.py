"""One can's way through the station after Inspect: the request to the inference worker, its
per-stage progress, the result, the heatmaps made display-ready in a worker, and the automatic save
in another worker. The panel shows what this reports.

Threading rule: a QObject on the GUI thread. The inference service answers by queued signals; the
heatmap colouring and the save run as ``gui.workers`` tasks; every signal here is emitted on the
GUI thread. Failures arrive as person-facing text (``gui.errors.error_text`` logs the unexpected).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

from app.recording import OriginalImage, save_inspection
from app.scores import Where, where
from common.regions import RegionRecipe
from core.results import CanResult, SideResult
from core.scoring.calibration import Thresholds
from gui.errors import error_text
from gui.widgets.image_view import PreparedResult, prepare_result
from gui.workers import TaskHandle, start_task


def _prepare_sides(progress, result: CanResult, wheres: Sequence[Where],
                   fit: tuple[int, int] | None) -> list[PreparedResult]:
    """Worker task: colouring and scaling seven 640x640 sides is ~100 ms, too long for the GUI."""
    return [prepare_result(s.image, s.heatmap, w.boxes, fit, w.outline)
            for s, w in zip(result.sides, wheres)]


def side_where(side: SideResult) -> Where:
    """What marks this side: boxes, the judged region with its reason, or the hot spot."""
    # ``region`` and ``reason`` come with the inspection regions (issue 8); older engines lack them.
    return where(side.outcome.value, side.boxes, side.heatmap, getattr(side, "region", None),
                 getattr(side, "reason", "") or "")


class CanInspection(QObject):
    progress = pyqtSignal(int, int, str)
    inspected = pyqtSignal(object)          # CanResult: verdicts can be shown at once
    prepared = pyqtSignal(list)             # list[PreparedResult], one per side, a moment later
    failed = pyqtSignal(str)                # the inspection failed: nothing to save
    saved = pyqtSignal(int)                 # the new inspection's id
    already_saved = pyqtSignal(int)         # this capture was recorded before, as #id
    save_failed = pyqtSignal(str)           # the can is inspected but not recorded: save_again()
    display_failed = pyqtSignal(str)        # heatmaps could not be drawn (the save still happens)
    idle = pyqtSignal()                     # nothing of this can is running any more

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._request_id: int | None = None
        self._tasks: list[TaskHandle] = []
        self._save_args: tuple = ()
        self._fit: tuple[int, int] | None = None
        self.unsaved: CanResult | None = None   # inspected, but its save failed
        self.thresholds: Thresholds | None = None    # those of the can in progress
        self.wheres: list[Where] = []                # per side of the last result
        inference = ctx.inference
        if inference is not None:
            inference.side_progress.connect(self._on_progress)
            inference.inspected.connect(self._on_inspected)
            inference.failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        return self._request_id is not None or any(not t.done for t in self._tasks)

    def start(self, folder: str, images: Sequence, side_names: Sequence[str],
              thresholds: Thresholds | None, product_id: int,
              originals: Sequence[OriginalImage | None],
              display_fit: tuple[int, int] | None = None,
              capture_key: str | None = None, recipe: RegionRecipe | None = None) -> None:
        """``display_fit``: the slots' view size, so that pictures come back ready to paint.
        ``capture_key``: the can's key; the same key again records nothing new. ``recipe``: the
        product's inspection regions (None: the model's default)."""
        inference = self._ctx.inference
        self._fit = display_fit
        self._request_id = inference.new_request_id()
        self.unsaved = None
        self.thresholds = thresholds
        self._save_args = (product_id, list(originals), capture_key)
        inference.inspect(self._request_id, folder, list(images), list(side_names), thresholds,
                          recipe)

    def _on_progress(self, request_id: int, done: int, total: int, stage: str) -> None:
        if request_id == self._request_id:
            self.progress.emit(done, total, stage)

    def _on_inspected(self, request_id: int, result: CanResult) -> None:
        if request_id != self._request_id:
            return  # another panel's can
        self._request_id = None
        self.wheres = [side_where(s) for s in result.sides]
        self.inspected.emit(result)
        # Heatmaps first, then the save: one after the other, so that two CPU-heavy workers do
        # not compete with the GUI thread for the cores and the GIL at the same moment.
        self._task(_prepare_sides, result, self.wheres, self._fit,
                   on_success=lambda prepared: self._then_save(result, prepared),
                   what="drawing heatmaps", on_error=self._prepare_failed(result))

    def _then_save(self, result: CanResult, prepared: list) -> None:
        self.prepared.emit(prepared)
        self._save(result)

    def _prepare_failed(self, result: CanResult):
        def report(text: str) -> None:
            self.display_failed.emit(text)
            self._save(result)  # the record matters more than the picture on screen
        return report

    def _save(self, result: CanResult) -> None:
        product_id, originals, capture_key = self._save_args
        self.unsaved = result

        def done(info: Any) -> None:
            self.unsaved = None
            (self.already_saved if info.already_recorded else self.saved).emit(info.id)

        self._task(save_inspection, self._ctx.station, self._ctx.actor, result, product_id,
                   self._ctx.settings.station_name, originals, capture_key, on_success=done,
                   what="saving the inspection", on_error=self.save_failed.emit)

    def save_again(self) -> bool:
        """Retry the save of a can whose save failed (e.g. the database was busy)."""
        if self.unsaved is None or self.busy:
            return False
        self._save(self.unsaved)
        return True

    def _on_failed(self, request_id: int, exc: BaseException) -> None:
        if request_id != self._request_id:
            return
        self._request_id = None
        self.failed.emit(error_text(exc, self._ctx.log_path, "inspecting a can"))
        self.idle.emit()

    def _task(self, fn, *args, on_success, on_error, what: str) -> None:
        handle = start_task(self, fn, *args, on_success=on_success,
                            on_error=lambda exc: on_error(error_text(exc, self._ctx.log_path, what)),
                            on_finished=self._task_done, name=what)
        self._tasks.append(handle)

    def _task_done(self) -> None:
        self._tasks = [t for t in self._tasks if not t.done]
        if not self.busy:
            self.idle.emit()
