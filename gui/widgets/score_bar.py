"""A side's score on the one 0-100 scale, with the review and reject thresholds drawn on it.

Green up to the review threshold, amber up to the reject threshold, red above; a dark marker at
the score. With ``labels`` the two thresholds are written under their ticks (wide places such as
the inspection detail); a slot of the capture panel is too narrow and shows them in its tooltip.

Threading rule: GUI thread only.
"""
from __future__ import annotations

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PyQt5.QtWidgets import QSizePolicy, QWidget

from app.palette import VERDICT_COLOURS
from app.scores import score_100, thresholds_text


class ScoreBar(QWidget):
    def __init__(self, parent: QWidget | None = None, labels: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("scoreBar")
        self.labels = labels
        self.score: int | None = None
        self.review = 50
        self.reject = 50
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setFixedHeight(30 if labels else 14)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(120, self.height())

    def set_values(self, score: float | None, review: float = 0.5, reject: float = 0.5) -> None:
        """Normalised values (0.5 = the model's decision); shown on 0-100."""
        self.score = None if score is None else score_100(score)
        self.review, self.reject = score_100(review), score_100(reject)
        tip = thresholds_text(review, reject)
        self.setToolTip(f"score {self.score} of 100; {tip}" if self.score is not None else tip)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        bar_h = 10
        bar = QRectF(4, 2, max(1, self.width() - 8), bar_h)

        def x(value: int) -> float:
            return bar.left() + bar.width() * value / 100

        zones = ((0, self.review, "pass"), (self.review, self.reject, "review"),
                 (self.reject, 100, "reject"))
        for lo, hi, key in zones:
            if hi > lo:
                colour = QColor(VERDICT_COLOURS[key])
                colour.setAlpha(110)
                p.fillRect(QRectF(x(lo), bar.top(), x(hi) - x(lo), bar_h), colour)
        p.setPen(QPen(QColor("#607080"), 1))
        p.drawRect(bar)
        for value in {self.review, self.reject}:
            p.setPen(QPen(QColor("#263238"), 1.5))
            p.drawLine(QPointF(x(value), bar.top() - 1), QPointF(x(value), bar.bottom() + 1))
        if self.labels:
            font = QFont(p.font())
            font.setPointSize(8)
            p.setFont(font)
            p.setPen(QColor("#37474f"))
            for value in sorted({self.review, self.reject}):
                p.drawText(QRectF(x(value) - 20, bar.bottom() + 2, 40, 14), Qt.AlignCenter,
                           str(value))
        if self.score is not None:
            sx = x(self.score)
            p.setPen(QPen(QColor("#111111"), 1))
            p.setBrush(QColor("#111111"))
            p.drawPolygon(QPolygonF([QPointF(sx - 5, bar.top() - 2), QPointF(sx + 5, bar.top() - 2),
                                     QPointF(sx, bar.top() + 6)]))
            p.drawRect(QRectF(sx - 1, bar.top(), 2, bar_h))
