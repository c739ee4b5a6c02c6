"""A one-line label that shortens its text with "…" to the room it has, the whole text in its
tooltip: for lines that must never wrap into a second row or widen a panel.

Threading rule: GUI thread only.
"""
from __future__ import annotations

from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QPainter
from PyQt5.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setWordWrap(False)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(20, super().minimumSizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        try:
            shown = self.fontMetrics().elidedText(self.text(), Qt.ElideRight, self.width())
            self.style().drawItemText(painter, self.contentsRect(),
                                      int(self.alignment() | Qt.TextSingleLine),
                                      self.palette(), self.isEnabled(), shown,
                                      self.foregroundRole())
        finally:
            painter.end()
