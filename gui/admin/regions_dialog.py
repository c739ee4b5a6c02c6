"""Regions… of a product (admins): per side, which part of the photo the detectors judge.

Automatic (the can locator, shown on the sample photo so the admin sees what would be judged),
Fixed (a rectangle or an ellipse drawn with the mouse on a sample photo: for a camera that does
not move) or Whole photo. Saved through ``station.products.update(region_recipe=...)``, which
checks it and writes the audit trail like any product edit (``app.regions.recipe_text``).

Threading: GUI thread only. Reading a sample photo, finding the can on it and the save run in
``gui.workers`` tasks; the dialog waits for them when it closes.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PyQt5.QtCore import QSize, pyqtSignal
from PyQt5.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.regions import ASK_PHOTO, Preview, explain, load_sample, model_locator, preview, recipe_text
from common.regions import MODE_LABELS, RecipeInvalid, RegionRecipe, SideRegion
from core.images.formats import file_dialog_filter
from db.dto import ProductInfo
from gui.admin.region_canvas import RegionCanvas
from gui.context import AppContext
from gui.errors import error_text
from gui.forms import fitted, keep_default
from gui.theme import error_style
from gui.workers import TaskHandle, start_task

SHAPES = {"rect": "Rectangle", "ellipse": "Ellipse"}
START_BOX = (0.2, 0.1, 0.8, 0.9)    # a first fixed region when nothing better is known


class RegionsDialog(QDialog):
    saved = pyqtSignal(object)      # the product's new ProductInfo

    def __init__(self, ctx: AppContext, product: ProductInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.product = ctx, product
        self.setObjectName("regionsDialog")
        self.setWindowTitle(f"Regions of {product.sku}")
        self._tasks: list[TaskHandle] = []
        self.samples: dict[str, np.ndarray] = {}
        self.previews: dict[str, Preview] = {}
        self._finding: set[tuple[str, int]] = set()   # (side, id of its sample) being located
        self._locator_options: dict[str, bool] | None = None   # the product's model's, looked up once
        problem = ""
        try:
            recipe = RegionRecipe.from_json(product.region_recipe)
        except RecipeInvalid as exc:
            recipe, problem = RegionRecipe(), f"The stored regions could not be read ({exc}); " \
                                              "every side starts as Automatic."
        self.regions = {side: recipe.for_side(side) for side in product.side_names}

        self.sides = QListWidget(objectName="regionSides")
        self.sides.setMaximumWidth(210)
        self.canvas = RegionCanvas(self)
        self.canvas.changed.connect(self._drawn)
        self.modes = QButtonGroup(self)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>What is judged</b>"))
        for n, (mode, label) in enumerate(MODE_LABELS.items()):
            button = QRadioButton(label, objectName=f"mode_{mode}")
            self.modes.addButton(button, n)
            right.addWidget(button)
        self.modes.buttonClicked.connect(lambda b: self._set_mode(b.objectName()[5:]))
        self.shape = QComboBox(objectName="regionShape")
        for key, label in SHAPES.items():
            self.shape.addItem(label, key)
        self.shape.currentIndexChanged.connect(lambda _i: self._set_shape(self.shape.currentData()))
        right.addWidget(self.shape)
        self.load_button = QPushButton("Load photo…", objectName="loadSample")
        self.load_button.clicked.connect(self.choose_sample)
        self.all_button = QPushButton("Use for every side", objectName="useForAll")
        self.all_button.clicked.connect(self.use_for_all)
        right.addWidget(self.load_button)
        right.addWidget(self.all_button)
        self.message = QLabel(problem, objectName="regionMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(220)
        right.addWidget(self.message)
        right.addStretch(1)

        body = QHBoxLayout()
        body.addWidget(self.sides)
        body.addWidget(self.canvas, 1)
        body.addLayout(right)
        col = QVBoxLayout(self)
        col.setContentsMargins(16, 12, 16, 12)
        col.addWidget(QLabel(f"Regions of {product.sku} {product.name}", objectName="panelTitle"))
        hint = QLabel("Choose a side, then what is judged on its photos. For a fixed region, drag "
                      "on the sample photo (outside the region shown: a new one); drag a corner to resize "
                      "it, inside it to move it.",
                      objectName="hint")
        hint.setWordWrap(True)
        col.addWidget(hint)
        col.addLayout(body, 1)
        self.errors = QLabel(objectName="saveError")
        self.errors.setStyleSheet(error_style())
        self.errors.setWordWrap(True)
        self.errors.hide()
        col.addWidget(self.errors)
        row = QHBoxLayout()
        row.addStretch(1)
        self.save_button = QPushButton("Save", objectName="okButton")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.submit)
        cancel = QPushButton("Cancel", objectName="cancelButton")
        cancel.clicked.connect(self.reject)
        row.addWidget(self.save_button)
        row.addWidget(cancel)
        keep_default(self.save_button, cancel, self.load_button, self.all_button)
        col.addLayout(row)
        for side in product.side_names:
            self.sides.addItem(self._item_text(side))
        self.sides.currentRowChanged.connect(lambda _r: self._show())
        self.sides.setCurrentRow(0)
        self.resize(fitted(self, QSize(1180, 680)))

    # ---- the side shown ----------------------------------------------------------------------
    @property
    def side(self) -> str:
        return self.product.side_names[max(0, self.sides.currentRow())]

    def _item_text(self, side: str) -> str:
        r = self.regions[side]
        what = {"auto": "Automatic", "whole": "Whole photo"}.get(r.mode, f"Fixed {SHAPES[r.shape].lower()}")
        return f"{side}\n   {what}"

    def _show(self) -> None:
        side, region = self.side, self.regions[self.side]
        self.modes.button(list(MODE_LABELS).index(region.mode)).setChecked(True)
        self.shape.blockSignals(True)
        self.shape.setCurrentIndex(self.shape.findData(region.shape))
        self.shape.blockSignals(False)
        self.shape.setEnabled(region.mode == "fixed")
        self.canvas.set_photo(self._sample(side))
        found = self.previews.get(side) if region.mode == "auto" else None
        self.canvas.show_region(region.box, region.shape, region.mode == "fixed",
                                found.outline if found is not None else None)
        self.canvas.placeholder = "" if self._sample(side) is not None else ASK_PHOTO
        self.sides.item(self.sides.currentRow()).setText(self._item_text(side))
        self.message.setText(explain(region, self._sample(side) is not None, found))
        if region.mode == "auto" and found is None and self._sample(side) is not None:
            self._find_can(side)

    def _sample(self, side: str) -> np.ndarray | None:
        """The side's own sample, else the last one loaded (sides often share a camera)."""
        return self.samples.get(side, self.samples.get("", None))

    # ---- edits -------------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        side, old = self.side, self.regions[self.side]
        if mode == old.mode:
            return
        box = None
        if mode == "fixed":
            found = self.previews.get(side)
            box = START_BOX
            if found is not None and found.outline is not None and self._sample(side) is not None:
                h, w = self._sample(side).shape[:2]   # type: ignore[union-attr]
                (x0, y0), (x1, y1) = found.outline.min(axis=0), found.outline.max(axis=0) + 1
                box = (x0 / w, y0 / h, min(1.0, x1 / w), min(1.0, y1 / h))
        self.regions[side] = SideRegion(mode, old.shape, box)
        self._show()

    def _set_shape(self, shape: str) -> None:
        old = self.regions[self.side]
        if old.mode == "fixed" and shape != old.shape:
            self.regions[self.side] = SideRegion("fixed", shape, old.box)
            self._show()

    def _drawn(self, box: tuple) -> None:
        old = self.regions[self.side]
        try:
            self.regions[self.side] = SideRegion("fixed", old.shape, box)
        except RecipeInvalid as exc:
            self.message.setText(str(exc).capitalize() + ".")
            self.canvas.box = old.box
            return
        self._show()

    def use_for_all(self) -> None:
        chosen = self.regions[self.side]
        self.regions = {side: chosen for side in self.regions}
        for row, side in enumerate(self.product.side_names):
            self.sides.item(row).setText(self._item_text(side))

    # ---- work in tasks -----------------------------------------------------------------------
    def choose_sample(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"A sample photo of {self.side}", "",
                                              file_dialog_filter())
        if path:
            self.load_sample(path)

    def load_sample(self, path: str) -> TaskHandle:
        side = self.side
        self.message.setText(f"Reading {path}…")
        return self._task(lambda _p: load_sample(path), what="reading the sample photo",
                          on_success=lambda image: self._sample_loaded(side, image))

    def _sample_loaded(self, side: str, image: np.ndarray) -> None:
        self.samples[side] = self.samples[""] = image
        self.previews = {s: p for s, p in self.previews.items() if self._sample(s) is not image}
        self.previews.pop(side, None)
        self._show()

    def _find_can(self, side: str) -> None:
        image = self._sample(side)
        if (side, id(image)) in self._finding:
            return
        self._finding.add((side, id(image)))
        self._task(lambda _p: preview(image, SideRegion(), self._locator()), what="finding the can",
                   on_success=lambda found: self._found(side, image, found))

    def _locator(self) -> dict[str, bool]:
        """The locator's options of the product's model (read from its model.json on the first
        preview, then kept: a task's thread, not the GUI's)."""
        if self._locator_options is None:
            self._locator_options = model_locator(self.ctx.station, self.ctx.actor, self.product.model_id)
        return self._locator_options

    def _found(self, side: str, image: np.ndarray, found: Preview) -> None:
        self._finding.discard((side, id(image)))
        if self._sample(side) is image:     # not a photo replaced meanwhile
            self.previews[side] = found
            if side == self.side:
                self._show()

    def submit(self) -> None:
        if any(not t.done for t in self._tasks if t.objectName() == "save"):
            return
        text = recipe_text(self.regions)
        service, actor, pid = self.ctx.station.products, self.ctx.actor, self.product.id
        self.errors.hide()
        self.save_button.setEnabled(False)
        handle = self._task(lambda _p: service.update(actor, pid, region_recipe=text),
                            what="saving the regions", on_success=self._saved,
                            on_error=self._save_failed)
        handle.setObjectName("save")

    def _saved(self, info: Any) -> None:
        self.saved.emit(info)
        self.accept()

    def _save_failed(self, text: str) -> None:
        self.save_button.setEnabled(True)
        self.errors.setText(text)
        self.errors.show()

    def _task(self, fn, *args, what: str, on_success, on_error=None) -> TaskHandle:
        fail = on_error or self.message.setText
        handle = start_task(self, fn, *args, on_success=on_success, name=what,
                            on_error=lambda exc: fail(error_text(exc, self.ctx.log_path, what)))
        self._tasks = [t for t in self._tasks if not t.done] + [handle]
        return handle

    def done(self, result: int) -> None:  # Qt's name: no task may outlive the dialog
        for task in self._tasks:
            task.wait()
        super().done(result)
