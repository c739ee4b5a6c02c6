"""One side of the can in the capture panel: its name, the photo (then the heatmap and boxes), the
outcome in words with the score on the 0-100 scale and the thresholds, a Retake button; files
dropped on it are imported into it; a click selects it (R retakes the selected side).

Threading rule: GUI thread only. It holds numpy arrays and results; it never reads files itself
(dropped files are handed to the panel, which reads them in a worker).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QDragEnterEvent, QDropEvent, QImage
from PyQt5.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.palette import VERDICT_TEXT, VERDICT_TEXT_COLOURS
from app.recording import OriginalImage
from app.scores import OUTCOME_WORDS, Where, score_100, thresholds_text
from core.results import SideResult
from core.scoring.calibration import Thresholds
from gui.theme import ACCENT_COLOUR, EMPTY_BORDER_COLOUR, OUTCOME_COLOURS
from gui.widgets.image_view import ImageView, PreparedResult
from gui.widgets.score_bar import ScoreBar


class SlotWidget(QFrame):
    """``retake(index)`` asks the panel to empty this slot; ``files_dropped(index, paths)`` brings
    local files dropped onto it."""

    retake = pyqtSignal(int)
    files_dropped = pyqtSignal(int, list)
    clicked = pyqtSignal(int)

    def __init__(self, index: int, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index, self.side = index, side
        self.setObjectName(f"slot{index}")
        self.setAcceptDrops(True)
        self.image: np.ndarray | None = None
        self._preview: QImage | None = None
        self.original: OriginalImage | None = None
        self.result: SideResult | None = None
        self.where: Where | None = None
        self._is_next = False
        self.selected = False

        self.title = QLabel(side, self)
        self.title.setObjectName("slotTitle")
        self.view = ImageView(self, placeholder=f"{side}\n(capture or drop a photo)")
        self.view.setMinimumSize(80, 64)   # two rows of sides fit a 640-pixel-high screen
        self.status = QLabel("Empty", self)
        self.status.setObjectName("slotStatus")
        self.score_bar = ScoreBar(self)
        self.score_bar.hide()
        # Captions (file names, results) must never widen the slot: seven slots share a 1366 px
        # screen with the preview; the full text is in the tooltip.
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.retake_button = QPushButton("Retake", self)
        self.retake_button.setObjectName("retakeButton")
        self.retake_button.setToolTip(f"Empty {side} so that the next capture fills it "
                                      "(R retakes the selected side)")
        self.retake_button.setFocusPolicy(Qt.NoFocus)  # Space must stay the capture key
        self.retake_button.setEnabled(False)
        self.retake_button.clicked.connect(lambda: self.retake.emit(self.index))

        # The side's name and Retake share the top row, so the outcome and score below have the
        # slot's whole width: "REVIEW 0." cut in half was unreadable.
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.title, 1)
        row.addWidget(self.retake_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.score_bar)
        self._restyle()

    # ---- state -------------------------------------------------------------------------------
    @property
    def filled(self) -> bool:
        return self.image is not None

    def set_photo(self, image: np.ndarray, original: OriginalImage | None = None,
                  source: str = "camera", preview: QImage | None = None) -> None:
        """``preview``: the display copy made by a worker (saves the GUI thread a conversion)."""
        self.image, self.original, self.result, self.where = image, original, None, None
        self._preview = preview
        self.score_bar.hide()
        self.view.set_image(preview if preview is not None else image)
        self._caption(f"Captured ({source})")
        self.retake_button.setEnabled(True)
        self._restyle()

    def clear(self) -> None:
        self.image = self.original = self.result = self._preview = self.where = None
        self.score_bar.hide()
        self.view.clear()
        self._caption("Empty")
        self.retake_button.setEnabled(False)
        self._restyle()

    def clear_result(self) -> None:
        """Forget the verdict but keep the photo (the can will be inspected again)."""
        if self.result is None:
            return
        self.result = self.where = None
        self.score_bar.hide()
        # The worker-made display copy: re-converting seven photos here would stall the GUI.
        self.view.set_image(self._preview if self._preview is not None else self.image)
        self._caption("Captured")
        self._restyle()

    def set_result(self, result: SideResult, thresholds: Thresholds | None = None,
                   where: Where | None = None, prepared: PreparedResult | None = None) -> None:
        """The outcome now (words, 0-100 score on the thresholds' scale); the heatmap too if
        ``prepared`` (else ``show_prepared`` later). ``thresholds``: those the can was judged
        with. ``where``: what marks the side (``app.scores.where``)."""
        t = thresholds or Thresholds()
        self.result, self.where = result, where
        outcome = result.outcome.value
        score = score_100(result.score)
        self.score_bar.set_values(result.score, t.review, t.reject)
        self.score_bar.show()
        caption = f"{VERDICT_TEXT[outcome]} · {score}"
        if where is not None and where.reason:
            # the gist on the slot ("no can found"); the whole reason in the tooltip
            caption += f" · {where.reason.split(':')[0]}"
        lines = [f"{self.side}: {OUTCOME_WORDS[outcome]}.",
                 f"Score {score} of 100 ({thresholds_text(t.review, t.reject)})."]
        if where is not None and where.describe():
            lines.append(where.describe().capitalize() + ".")
        self._caption(caption, "\n".join(lines))
        if prepared is not None:
            self.show_prepared(prepared)
        self._restyle()

    def show_prepared(self, prepared: PreparedResult) -> None:
        if self.result is not None:
            outline = self.where.outline if self.where is not None else None
            self.view.set_prepared(prepared, outline)

    def _caption(self, text: str, tip: str = "") -> None:
        self.status.setText(text)
        self.status.setToolTip(tip or text)

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self._restyle()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.clicked.emit(self.index)
        super().mousePressEvent(event)

    def set_next(self, is_next: bool) -> None:
        if is_next != self._is_next:
            self._is_next = is_next
            self._restyle()

    def _restyle(self) -> None:
        if self.result is not None:
            colour, width, style = OUTCOME_COLOURS[self.result.outcome], 4, "solid"
        elif self._is_next:
            colour, width, style = ACCENT_COLOUR, 3, "dashed"
        else:
            colour, width, style = EMPTY_BORDER_COLOUR, 1, "solid"
        self.title.setText(f"{self.side}  ← next" if self._is_next and not self.filled else self.side)
        selected = (f"QLabel#slotTitle {{ background: {ACCENT_COLOUR}; color: white; "
                    "border-radius: 3px; padding: 0 4px; }") if self.selected else ""
        status = (f"QLabel#slotStatus {{ color: {VERDICT_TEXT_COLOURS[self.result.outcome.value]}; "
                  "font-weight: bold; }") if self.result is not None else ""
        self.setStyleSheet(f"#{self.objectName()} {{ border: {width}px {style} {colour}; "
                           f"border-radius: 4px; }} {selected} {status}")

    @property
    def border_colour(self) -> str | None:
        """The verdict colour shown, for tests and screenshots; None before a verdict."""
        return OUTCOME_COLOURS[self.result.outcome] if self.result is not None else None

    # ---- drag and drop -----------------------------------------------------------------------
    @staticmethod
    def _local_files(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and Path(u.toLocalFile()).is_file()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt name
        if self._local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt name
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt name
        paths = self._local_files(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped.emit(self.index, paths)
