"""The lower half of the Models panel: what is known about the selected model.

Its own thresholds in the boxes as soon as it is selected; its latest stored evaluation (charts, and
per-side and can-level figures, each with the images it rests on, its 95 % interval and a warning
below ``MIN_IMAGES_PER_CLASS`` images of a class); nothing of another model's. The figures follow the
thresholds as they move. "Set reject for a can target" re-calibrates the reject threshold from the
evaluation's good images (``core.scoring.can_target``); Save thresholds (the panel) stores it.

Threading rule: GUI thread only; it computes figures from arrays it is given (numpy, no torch).
"""
from __future__ import annotations

import numpy as np
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.model_figures import (
    FigureRow,
    arrays,
    backdrop_rows,
    figure_rows,
    outcomes_at,
    pinned_of,
    stored_rows,
)
from app.model_gate import overlap_of
from core.evaluation.uncertainty import MIN_IMAGES_PER_CLASS
from core.scoring.calibration import Thresholds
from core.scoring.can_target import reject_for_can_target

FIGURE_COLUMNS = ("Figure", "Value", "95 % interval", "Images it rests on")


def model_thresholds(model) -> Thresholds:
    return Thresholds.from_dict(model.thresholds) if model.thresholds else Thresholds()


def validation_text(model) -> str:
    """The model's own validation AUROC with the images it rests on (they were fitted to)."""
    m = model.metrics
    auc, n = m.get("val_auroc"), m.get("val_images")
    if auc is None:
        return "no validation AUROC recorded"
    text = f"validation AUROC {auc:.3f}"
    if isinstance(m.get("val_auroc_interval"), list):
        text += " ({:.2f}–{:.2f})".format(*m["val_auroc_interval"])
    good, bad = m.get("val_good"), m.get("val_defect")
    if good is not None and bad is not None:
        text += f" on {good} good, {bad} defective"
        few = min(good, bad) < MIN_IMAGES_PER_CLASS
    else:
        text += f" on {n} images" if n is not None else ""
        few = n is None or n < 2 * MIN_IMAGES_PER_CLASS
    return text + (" (too few to trust)" if few else "")


class EvaluationView(QWidget):
    def __init__(self, charts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.charts = charts
        self._model = None
        self._arrays: tuple | None = None
        self._stored: dict | None = None
        self.status = QLabel("Select a model to see what is known about it.", self)
        self.status.setObjectName("modelEvaluationStatus")
        self.status.setWordWrap(True)
        self.figures = QTableWidget(0, len(FIGURE_COLUMNS), self)
        self.figures.setObjectName("modelFigures")
        self.figures.setHorizontalHeaderLabels(FIGURE_COLUMNS)
        self.figures.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.figures.verticalHeader().hide()
        self.figures.horizontalHeader().setStretchLastSection(True)
        self.target = QDoubleSpinBox(self)
        self.target.setRange(0.01, 50.0)
        self.target.setDecimals(2)
        self.target.setSingleStep(0.1)
        self.target.setValue(1.0)
        self.target.setSuffix(" %")
        self.target_button = QPushButton("Set reject for this target", self)
        self.target_note = QLabel("", self)
        self.target_note.setWordWrap(True)
        self.save_thresholds_button = QPushButton("Save thresholds", self)
        self._layout()
        self.target_button.clicked.connect(self.apply_can_target)
        self.charts.thresholds_changed.connect(lambda *_: self._refresh_figures())
        self._update_target_button()

    def _layout(self) -> None:
        # Figures and charts share the width as tabs (both fit at 1024 px); the threshold boxes
        # live below them, so the figures follow the boxes with either tab open.
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.figures, "Figures per side and per can")
        self.tabs.addTab(self.charts, "Charts")
        boxes = QHBoxLayout()
        for widget in (QLabel("Review from", self), self.charts.review_box,
                       QLabel("Reject from", self), self.charts.reject_box):
            boxes.addWidget(widget)
        boxes.addWidget(self.charts.summary, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Good cans rejected at most", self))
        row.addWidget(self.target)
        row.addWidget(self.target_button)
        row.addStretch(1)
        row.addWidget(self.save_thresholds_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(boxes)
        layout.addLayout(row)
        layout.addWidget(self.target_note)

    # ---- what is shown ------------------------------------------------------------------------
    def clear(self) -> None:
        self._model, self._arrays, self._stored = None, None, None
        self.charts.clear()
        self._set_rows([])
        self.target_note.setText("")
        self.status.setText("Select a model to see what is known about it.")
        self._update_target_button()

    def show_model(self, model, evaluation=None, report=None) -> None:
        """``model`` (ModelInfo) with its latest stored ``evaluation`` (or None); ``report``, a fresh
        ``EvalReport`` of that evaluation, supplies the arrays if the stored one lacks them."""
        self.clear()
        self._model = model
        thresholds = model_thresholds(model)
        self.charts.show_thresholds(thresholds)
        head = f"{model.name} {model.version}: {validation_text(model)}."
        if evaluation is None:
            self.status.setText(head + " Not evaluated on other images yet: evaluate it on a folder "
                                "of images it was not trained on.")
            return
        data = evaluation.data
        self._stored = data
        got = arrays(data)
        if got is None and report is not None:
            got = (report.labels, report.scores, list(report.outcomes))
        self._arrays = got
        seen = overlap_of(evaluation)
        seen_text = ("the model does not record which images it was trained on" if seen is None
                     else f"{seen} of them used in its training")
        self.status.setText(
            f"{head} Evaluated {evaluation.created_at:%Y-%m-%d %H:%M} by {evaluation.username} on "
            f"{evaluation.source}: {evaluation.n_images} images ({data.get('good', '?')} good, "
            f"{data.get('defect', '?')} defective); {seen_text}.")
        if got is not None:
            labels, scores, _ = got
            self.charts.set_data(labels, scores, thresholds,
                                 f"{model.name} {model.version} on {evaluation.source}")
        self._refresh_figures()
        self._update_target_button()

    def _refresh_figures(self) -> None:
        if self._model is None:
            return
        t = self.charts.thresholds()
        if self._arrays is not None:
            labels, scores, outcomes = self._arrays
            stored = (self._stored or {}).get("thresholds")
            if not stored:
                outcomes = outcomes_at(scores, t)
            elif t != (at := Thresholds(stored["review"], stored["reject"])):
                outcomes = outcomes_at(scores, t, pinned_of(scores, outcomes, at))
            self._set_rows(figure_rows(labels, scores, outcomes) + backdrop_rows(self._stored, t))
        elif self._stored is not None:
            self._set_rows(stored_rows(self._stored, None))

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(self.figures.item(r, c).text() for c in range(self.figures.columnCount()))
                for r in range(self.figures.rowCount())]

    def _set_rows(self, rows: list[FigureRow]) -> None:
        self.figures.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(rows):
            rests = row.rests_on + (f" — {row.warning}" if row.warning else "")
            for c, text in enumerate((row.name, row.value, row.interval, rests)):
                item = QTableWidgetItem(text)
                if row.warning and c == 3:
                    item.setFont(bold)
                    item.setToolTip(row.warning)
                self.figures.setItem(r, c, item)
        self.figures.resizeColumnsToContents()

    # ---- re-calibration to a can-level target ---------------------------------------------------
    def _good_scores(self) -> np.ndarray:
        if self._arrays is None:
            return np.zeros(0)
        labels, scores, _ = self._arrays
        return np.asarray(scores, float)[np.asarray(labels) == 0]

    def _update_target_button(self) -> None:
        self.target_button.setEnabled(self._good_scores().size > 0)

    def apply_can_target(self) -> None:
        good = self._good_scores()
        if not good.size:
            return
        result = reject_for_can_target(good, self.target.value() / 100.0)
        self.charts.reject_box.setValue(result.reject)
        self.target_note.setText(result.note + " Figures on the images the threshold was set from "
                                 "are optimistic; Save thresholds to use it.")
