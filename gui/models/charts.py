"""Evaluation charts: ROC curve, the outcome matrix (good/defect × pass/review/reject) and the score
histogram with the two thresholds, which the admin moves by dragging the lines or with the spin
boxes; the matrix and the review share follow live.

Threading rule: GUI thread only. It draws arrays it is given (an ``EvalReport``'s labels and scores);
computing them is the evaluation task's job. Redraws go through ``draw_idle`` so a drag never
queues more than one repaint.
"""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QDoubleSpinBox, QLabel, QVBoxLayout, QWidget

from common.thresholds import DECISION, HIGHEST, LOWEST
from core.evaluation import metrics
from core.scoring.calibration import Thresholds
from gui.theme import ACCENT_COLOUR, GUIDE_COLOUR, PASS_COLOUR, REJECT_COLOUR, REVIEW_COLOUR

OUTCOMES = ("pass", "review", "reject")
GRAB_DISTANCE = 0.03  # how near (in score units) a press must be to pick up a threshold line


def outcome_matrix(labels: np.ndarray, scores: np.ndarray, review: float, reject: float) -> np.ndarray:
    """2×3 counts: rows good / defect, columns pass / review / reject (``Thresholds``' rule)."""
    labels = np.asarray(labels).astype(int)
    column = Thresholds(review, reject).severities(scores)
    out = np.zeros((2, 3), int)
    np.add.at(out, (labels, column), 1)
    return out


class EvaluationCharts(QWidget):
    thresholds_changed = pyqtSignal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = np.zeros(0, int)
        self.scores = np.zeros(0, float)
        # Fixed margins, not tight_layout: laying out again costs a full extra draw every time.
        self.figure = Figure(figsize=(10, 3.4))
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.2, top=0.84, wspace=0.32)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.ax_roc, self.ax_matrix, self.ax_hist = self.figure.subplots(1, 3)
        # Until there is an evaluation the canvas stays hidden: a first matplotlib draw costs the
        # GUI thread several hundred ms, which opening the panel should not pay for empty axes.
        self.canvas.hide()
        self.placeholder = QLabel("Evaluate a model on a folder to see its ROC curve, outcomes "
                                  "and score histogram here.", self)
        self.placeholder.setAlignment(Qt.AlignCenter)
        # The ranges of the one threshold rule (common.thresholds): what db stores, core accepts.
        self.review_box = self._spin(LOWEST, DECISION)
        self.reject_box = self._spin(DECISION, HIGHEST)
        self.summary = QLabel("", self)
        self.summary.setObjectName("evaluationSummary")
        self.summary.setWordWrap(True)
        # The boxes and the summary are laid out by whoever holds the charts (the Models panel puts
        # them under its tabs, so they stay visible while the charts are hidden).
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.placeholder, 1)
        self._lines: dict[str, object] = {}
        self._dragging: str | None = None
        self._matrix_texts: list = []
        self.review_box.valueChanged.connect(self._on_spin)
        self.reject_box.valueChanged.connect(self._on_spin)
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.mpl_connect("button_release_event", self._on_release)

    def _spin(self, low: float, high: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(low, high)
        box.setSingleStep(0.01)
        box.setDecimals(3)
        return box

    # ---- data --------------------------------------------------------------------------------
    def thresholds(self) -> Thresholds:
        return Thresholds(round(self.review_box.value(), 3), round(self.reject_box.value(), 3))

    def set_data(self, labels, scores, thresholds: Thresholds, title: str = "") -> None:
        self.labels = np.asarray(labels).astype(int)
        self.scores = np.asarray(scores, float)
        self._set_boxes(thresholds)
        self._draw_roc(title)
        self._draw_hist()
        self._update_matrix()
        self.placeholder.hide()
        self.canvas.show()

    def show_thresholds(self, thresholds: Thresholds) -> None:
        """Put a model's own thresholds in the boxes (before or without an evaluation)."""
        self._set_boxes(thresholds)
        if self.labels.size:
            self._update_matrix()

    def _set_boxes(self, thresholds: Thresholds) -> None:
        for box, value in ((self.review_box, thresholds.review), (self.reject_box, thresholds.reject)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    def clear(self) -> None:
        """Forget the drawn evaluation (another model was selected): placeholder again."""
        self.labels = np.zeros(0, int)
        self.scores = np.zeros(0, float)
        for ax in (self.ax_roc, self.ax_matrix, self.ax_hist):
            ax.clear()
        self.figure.suptitle("")
        self._lines = {}
        self.summary.setText("")
        self.canvas.hide()
        self.placeholder.show()

    def matrix(self) -> np.ndarray:
        t = self.thresholds()
        return outcome_matrix(self.labels, self.scores, t.review, t.reject)

    def review_share(self) -> float:
        return float(self.matrix()[:, 1].sum() / max(1, self.labels.size))

    # ---- drawing -----------------------------------------------------------------------------
    def _draw_roc(self, title: str) -> None:
        ax = self.ax_roc
        ax.clear()
        ax.set_title("ROC curve", fontsize=10)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.plot([0, 1], [0, 1], color=GUIDE_COLOUR, linestyle=":")
        if np.unique(self.labels).size == 2:
            fpr, tpr, _ = metrics.roc_curve(self.labels, self.scores)
            auc = metrics.roc_auc(self.labels, self.scores)
            ax.plot(fpr, tpr, color=ACCENT_COLOUR, label=f"AUROC {auc:.3f}")
            ax.legend(loc="lower right")
        else:
            ax.text(0.5, 0.5, "needs good and\ndefective images", ha="center", va="center")
        if title:
            self.figure.suptitle(title, fontsize=9)

    def _draw_hist(self) -> None:
        ax = self.ax_hist
        ax.clear()
        ax.set_title("Scores (0.5 = model threshold)", fontsize=10)
        ax.set_xlabel("normalised score")
        low = min(0.0, float(self.scores.min()) if self.scores.size else 0.0)
        high = max(1.0, float(self.scores.max()) if self.scores.size else 1.0)
        bins = np.linspace(low, high, 31)
        for label, colour, name in ((0, PASS_COLOUR, "good"), (1, REJECT_COLOUR, "defect")):
            part = self.scores[self.labels == label]
            if part.size:
                ax.hist(part, bins=bins, alpha=0.6, color=colour, label=name)
        ax.axvline(0.5, color=GUIDE_COLOUR, linestyle=":")
        t = self.thresholds()
        self._lines = {"review": ax.axvline(t.review, color=REVIEW_COLOUR, linewidth=2),
                       "reject": ax.axvline(t.reject, color=REJECT_COLOUR, linewidth=2)}
        ax.legend(loc="upper right", fontsize=8)

    def _update_matrix(self) -> None:
        ax = self.ax_matrix
        m = self.matrix()
        ax.clear()
        ax.imshow(m, cmap="Blues", aspect="auto")
        ax.set_xticks(range(3), [o.upper() for o in OUTCOMES])
        ax.set_yticks(range(2), ["good", "defect"])
        ax.set_title("Outcomes at these thresholds", fontsize=10)
        for (r, c), n in np.ndenumerate(m):
            ax.text(c, r, str(n), ha="center", va="center",
                    color="white" if n > m.max() / 2 else "black", fontsize=12)
        t = self.thresholds()
        for name, value in (("review", t.review), ("reject", t.reject)):
            if name in self._lines:
                self._lines[name].set_xdata([value, value])
        n = max(1, self.labels.size)
        missed = m[1, 0]
        false_rejects = m[0, 2]
        self.summary.setText(
            f"Review share {m[:, 1].sum() / n:.1%} · defects passed {missed} · good rejected "
            f"{false_rejects} · {self.labels.size} images")
        self.canvas.draw_idle()

    # ---- moving the thresholds ---------------------------------------------------------------
    def _on_spin(self) -> None:
        self._update_matrix()
        t = self.thresholds()
        self.thresholds_changed.emit(t.review, t.reject)

    def _on_press(self, event) -> None:
        if event.inaxes is not self.ax_hist or event.xdata is None:
            return
        t = self.thresholds()
        near = min((abs(event.xdata - t.review), "review"), (abs(event.xdata - t.reject), "reject"))
        self._dragging = near[1] if near[0] <= GRAB_DISTANCE else None

    def _on_motion(self, event) -> None:
        if self._dragging is None or event.xdata is None:
            return
        box = self.review_box if self._dragging == "review" else self.reject_box
        box.setValue(float(event.xdata))  # the spin box clamps to the allowed range

    def _on_release(self, event) -> None:
        self._dragging = None
