"""One side of the can in the capture panel: its name, the photo (then the heatmap and boxes), the
verdict colour and score, a Retake button; files dropped on it are imported into it.

Threading rule: GUI thread only. It holds numpy arrays and results; it never reads files itself
(dropped files are handed to the panel, which reads them in a worker).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QDragEnterEvent, QDropEvent, QImage
from PyQt5.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout,
                             QWidget)

from core.results import SideResult
from app.recording import OriginalImage
from gui.theme import ACCENT_COLOUR, EMPTY_BORDER_COLOUR, OUTCOME_COLOURS
from gui.widgets.image_view import ImageView, PreparedResult


class SlotWidget(QFrame):
    """``retake(index)`` asks the panel to empty this slot; ``files_dropped(index, paths)`` brings
    local files dropped onto it."""

    retake = pyqtSignal(int)
    files_dropped = pyqtSignal(int, list)

    def __init__(self, index: int, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index, self.side = index, side
        self.setObjectName(f"slot{index}")
        self.setAcceptDrops(True)
        self.image: np.ndarray | None = None
        self._preview: QImage | None = None
        self.original: OriginalImage | None = None
        self.result: SideResult | None = None
        self._is_next = False

        self.title = QLabel(side, self)
        self.title.setObjectName("slotTitle")
        self.view = ImageView(self, placeholder=f"{side}\n(capture or drop a photo)")
        self.view.setMinimumSize(120, 120)
        self.status = QLabel("Empty", self)
        self.status.setObjectName("slotStatus")
        # Captions (file names, results) must never widen the slot: seven slots share a 1366 px
        # screen with the preview; the full text is in the tooltip.
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.retake_button = QPushButton("Retake", self)
        self.retake_button.setToolTip(f"Empty {side} so that the next capture fills it")
        self.retake_button.setFocusPolicy(Qt.NoFocus)  # Space must stay the capture key
        self.retake_button.setEnabled(False)
        self.retake_button.clicked.connect(lambda: self.retake.emit(self.index))

        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.retake_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        self._restyle()

    # ---- state -------------------------------------------------------------------------------
    @property
    def filled(self) -> bool:
        return self.image is not None

    def set_photo(self, image: np.ndarray, original: OriginalImage | None = None,
                  source: str = "camera", preview: QImage | None = None) -> None:
        """``preview``: the display copy made by a worker (saves the GUI thread a conversion)."""
        self.image, self.original, self.result = image, original, None
        self._preview = preview
        self.view.set_image(preview if preview is not None else image)
        self._caption(f"Captured ({source})")
        self.retake_button.setEnabled(True)
        self._restyle()

    def clear(self) -> None:
        self.image = self.original = self.result = self._preview = None
        self.view.clear()
        self._caption("Empty")
        self.retake_button.setEnabled(False)
        self._restyle()

    def clear_result(self) -> None:
        """Forget the verdict but keep the photo (the can will be inspected again)."""
        if self.result is None:
            return
        self.result = None
        # The worker-made display copy: re-converting seven photos here would stall the GUI.
        self.view.set_image(self._preview if self._preview is not None else self.image)
        self._caption("Captured")
        self._restyle()

    def set_result(self, result: SideResult, prepared: PreparedResult | None = None) -> None:
        """The verdict now; the heatmap too if ``prepared`` (else call ``show_prepared`` later)."""
        self.result = result
        if prepared is not None:
            self.view.set_prepared(prepared)
        self._caption(f"{result.outcome.value.upper()} {result.score:.2f}",
                      f"{result.label}, score {result.score:.3f} (0.5 = the model's threshold), "
                      f"{result.outcome.value}, {len(result.boxes)} box(es)")
        self._restyle()

    def show_prepared(self, prepared: PreparedResult) -> None:
        if self.result is not None:
            self.view.set_prepared(prepared)

    def _caption(self, text: str, tip: str = "") -> None:
        self.status.setText(text)
        self.status.setToolTip(tip or text)

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
        self.setStyleSheet(f"#{self.objectName()} {{ border: {width}px {style} {colour}; "
                           "border-radius: 4px; }")

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
