"""Capture and inspect (operators): pick the product, fill its seven sides from the camera or from
files, inspect through the long-lived inference worker, see the verdicts, save automatically.

Decisions:
* Inspect needs every side of the product filled: a station judges whole cans, and a can recorded
  with a missing side would look inspected in the gallery when it was not.
* After a can is inspected, the next capture or import starts a new can (the operator's rhythm is
  capture x7, inspect, capture...). Retake on an inspected can keeps the photos and drops the verdict.
* Which model: the product's active model, asked of the database at each inspection (an admin may
  switch it at any time); the product's threshold override, else the model's thresholds as stored
  in the database (the Models panel saves moved thresholds there, never into the model file).
* Each can carries a capture key (uuid4) from the start of its capture: Inspect again on the same
  photos (or Save again after an unclear failure) records nothing new, and says "already saved as
  #N"; New can, a retake of an inspected can or another product starts a new key.

Threading rule: GUI thread only. Photos are read, and inspections saved, in ``gui.workers`` tasks;
inspection runs in ``ctx.inference`` (one thread owning the model). Nothing here touches torch.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QWidget

from core.results import CanResult, Outcome
from core.scoring.calibration import Thresholds
from core.sides import DEFAULT_SIDE_NAMES
from gui.camera import FrameSource, OpenCVSource
from gui.capture import keys
from gui.capture.importing import ImportMixin
from gui.capture.inspection import CanInspection
from gui.capture.keys import KeysMixin
from gui.capture.product_bar import fetch_for_inspection
from gui.capture.slot import SlotWidget
from gui.capture.texts import banner_detail, capture_state_text
from gui.capture.widgets import build_widgets, lay_out
from gui.errors import error_text
from gui.theme import error_style
from gui.widgets.image_view import PreparedResult
from gui.workers import TaskHandle, start_task


class CapturePanel(KeysMixin, ImportMixin, QWidget):
    """``open_models_requested`` asks the main window for the Models panel (admins, no model);
    ``inspection_saved(id)`` tells it a new inspection is in the database."""

    open_models_requested = pyqtSignal()
    inspection_saved = pyqtSignal(int)

    def __init__(self, ctx, source_factory: Callable[[], FrameSource] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("capturePanel")
        self._ctx = ctx
        s = ctx.settings
        factory = source_factory or (lambda: OpenCVSource(s.camera_device, s.camera_width,
                                                          s.camera_height))
        self._result: CanResult | None = None
        self._tasks: list[TaskHandle] = []
        self.capture_key = new_capture_key()

        build_widgets(self, ctx, factory)
        self.selected: int | None = None
        lay_out(self)

        self.product_bar.product_changed.connect(self._on_product_changed)
        self.grid.retake.connect(self.retake)
        self.grid.files_dropped.connect(lambda index, paths: self.import_files(paths, index))
        self.product_bar.open_models_requested.connect(self.open_models_requested)
        self.camera.capture_requested.connect(self.capture)
        self.camera.state_changed.connect(self._update_buttons)
        self.import_files_button.clicked.connect(self._choose_files)
        self.import_folder_button.clicked.connect(self._choose_folder)
        self.new_can_button.clicked.connect(self.new_can)
        self.inspect_button.clicked.connect(self.inspect)
        self.shortcuts = keys.install(self, {
            "capture": self.capture, "inspect": self._inspect_key, "new_can": self._new_can_key,
            "previous": lambda: self.select_side(-1, relative=True),
            "next": lambda: self.select_side(1, relative=True), "retake": self.retake_selected})
        self.grid.clicked.connect(self.select_side)
        self.run = CanInspection(ctx, self)
        self.run.progress.connect(self._on_progress)
        self.run.inspected.connect(self._on_inspected)
        self.run.prepared.connect(self._on_prepared)
        self.run.failed.connect(self._on_failed)
        self.run.saved.connect(self._on_saved)
        self.run.already_saved.connect(self._on_already_saved)
        self.run.save_failed.connect(self._on_save_failed)
        self.run.display_failed.connect(lambda text: self._say(text, error=True))
        self.save_again_button.clicked.connect(self._save_again)
        self.run.idle.connect(self._update_buttons)
        self.product_bar.refresh()
        self._update_buttons()

    # ---- product and slots ------------------------------------------------------------------
    @property
    def side_names(self) -> tuple[str, ...]:
        p = self.product_bar.product
        return tuple(p.side_names) if p is not None and p.side_names else DEFAULT_SIDE_NAMES

    @property
    def slots(self) -> list[SlotWidget]:
        return self.grid.slots

    def _on_product_changed(self) -> None:
        self.capture_key = new_capture_key()
        self.grid.rebuild(self.side_names)
        self.selected = None
        self._result = None
        self._reset_progress()
        self._show_capture_state()
        self._update_buttons()

    def _show_capture_state(self) -> None:
        self.banner.show_message(capture_state_text(len(self.slots),
                                                    sum(s.filled for s in self.slots)))

    def _reset_progress(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")

    def next_slot(self) -> int | None:
        return self.grid.next_slot()

    def _start_new_can_if_done(self) -> bool:
        """An inspected can gives way to a new one, unless it is not saved yet; False then."""
        if self._result is None:
            return True
        if self.run.unsaved is not None:
            self._say("The last can is not saved: press Save again, or New can to discard it.",
                      error=True)
            return False
        self.new_can()
        return True

    def new_can(self) -> None:
        self.capture_key = new_capture_key()
        self.run.unsaved = None  # an explicit New can discards a can whose save failed
        self.save_again_button.hide()
        self.grid.clear()
        self._result = None
        self._reset_progress()
        self._show_capture_state()
        self._say("")
        self._update_buttons()

    def retake(self, index: int) -> None:
        """Empty one slot so that the next capture fills it; an inspected can loses its verdict."""
        if self.busy:
            return
        again = self._result is not None
        if again:
            self._result = None
            self.capture_key = new_capture_key()   # other photos: another record
            self.grid.clear_results()
            self._reset_progress()
        self.slots[index].clear()
        self._show_capture_state()
        if again:
            self._say("Retake: the can will be inspected again.")
        self._update_buttons()

    # ---- camera -----------------------------------------------------------------------------
    def start_camera(self) -> None:
        self.camera.start()

    def stop_camera(self) -> None:
        self.camera.stop()

    def capture(self) -> None:
        """Fill the next empty slot with the newest camera frame (the Space key)."""
        if self.busy or not self.slots:
            return
        frame = self.camera.frame()
        if frame is None:
            self._say("No picture from the camera: start it (or import files).")
            return
        if not self._start_new_can_if_done():
            return
        index = self.next_slot()
        if index is None:
            self._say("All sides are captured: retake one or press Inspect.")
            return
        self.slots[index].set_photo(frame, None, "camera")
        self._show_capture_state()
        self._update_buttons()

    # ---- inspect and save ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.run.busy or any(not t.done for t in self._tasks)

    def inspect(self) -> None:
        """Send the can to the inference worker; needs every side and an active model."""
        if self.busy or not self.slots or self._ctx.inference is None:
            return
        if not self.grid.full:
            self._say(f"Inspect needs every side; missing: {', '.join(self.grid.missing())}.")
            return
        # What model and thresholds: asked again at every can (an admin may have switched
        # them), in ONE service call, in a worker: the window never waits for the database.
        handle = start_task(self, fetch_for_inspection, self._ctx.station.models,
                            self._ctx.actor, self.product_bar.product.id,
                            on_success=self._inspect_with,
                            on_error=lambda exc: self.banner.show_error(
                                error_text(exc, self._ctx.log_path, "finding the model")),
                            on_finished=self._task_done, name="inspect: model")
        self._tasks.append(handle)
        self.banner.show_message("Inspecting…")
        self._update_buttons()

    def _inspect_with(self, setup: tuple) -> None:
        product, model, thresholds, recipe = setup
        self.product_bar.take(product, model)
        if model is None:
            self.banner.show_error(self.product_bar.no_model_text())
            return
        self.grid.clear_results()
        self._result = None
        self.progress.setRange(0, len(self.slots) + 2)
        self.progress.setValue(0)
        self._say("")
        self.run.start(model.folder, [s.image for s in self.slots], self.side_names, thresholds,
                       product.id, [s.original for s in self.slots], self.grid.display_fit(),
                       self.capture_key, recipe)
        self._update_buttons()

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(stage)

    def _on_inspected(self, result: CanResult) -> None:
        self._result = result
        t = self.run.thresholds or Thresholds()
        for slot, side, where in zip(self.slots, result.sides, self.run.wheres):
            slot.set_result(side, t, where)  # outcomes now; heatmaps when ``prepared`` arrives
        worst = max(result.sides, key=lambda s: (s.outcome.severity, s.score))
        self.banner.show_verdict(result.verdict, banner_detail(result, worst, t))
        if result.verdict == Outcome.REJECT:
            self.alert.fire(self.banner)
        self._say("Saving…")
        self._update_buttons()

    def _on_prepared(self, prepared: list[PreparedResult]) -> None:
        if self._result is None:
            return  # a new can was started meanwhile
        for slot, item in zip(self.slots, prepared):
            slot.show_prepared(item)

    def _on_failed(self, text: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.banner.show_error(text)
        self._update_buttons()

    def _on_save_failed(self, text: str) -> None:
        self._say(f"Not saved: {text}", error=True)
        self.save_again_button.show()

    def _save_again(self) -> None:
        if self.run.save_again():
            self.save_again_button.hide()
            self._say("Saving…")
            self._update_buttons()

    def _on_saved(self, inspection_id: int) -> None:
        self.save_again_button.hide()
        self._say(f"Saved #{inspection_id}.")
        self.inspection_saved.emit(inspection_id)

    def _on_already_saved(self, inspection_id: int) -> None:
        """Inspect again on an unchanged can: the record exists, nothing new was saved."""
        self.save_again_button.hide()
        self._say(f"Already saved as #{inspection_id}.")

    def _on_task_error(self, what: str) -> Callable[[BaseException], None]:
        def show(exc: BaseException) -> None:
            self._say(error_text(exc, self._ctx.log_path, what), error=True)
        return show

    def _task_done(self) -> None:
        self._tasks = [t for t in self._tasks if not t.done]
        self._update_buttons()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(error_style(error))

    def _update_buttons(self) -> None:
        busy, has_slots = self.busy, bool(self.slots)
        self.capture_button.setEnabled(has_slots and not busy and self.camera.ok)
        self.import_files_button.setEnabled(has_slots and not busy)
        self.import_folder_button.setEnabled(has_slots and not busy)
        self.new_can_button.setEnabled(has_slots and not busy)
        self.product_bar.setEnabled(not busy)
        self.inspect_button.setEnabled(self.grid.full and not busy and self.product_bar.has_model
                                       and self._ctx.inference is not None)
        self.grid.update_state(busy)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.camera.stop()  # release the device for other programs while another panel is shown
        super().hideEvent(event)

    def shutdown(self) -> None:
        """Stop the camera thread (the main window calls this on close; tests too)."""
        self.camera.stop()


def new_capture_key() -> str:
    """The idempotency key of one captured can (db.records.NewInspection.capture_key)."""
    return str(uuid.uuid4())
