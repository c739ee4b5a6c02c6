"""A matplotlib canvas whose size hint does not follow the figure.

``FigureCanvasQTAgg`` reports the figure's current size as its size hint, and every resize
changes the figure's size. Inside a scroll area (every panel sits in one) that feedback can
swing forever: the hint grows, a scroll bar appears, the canvas shrinks, the hint shrinks, the
scroll bar goes... until the stack overflows (seen with the Statistics tabs at 1366×768). A
constant hint ends the loop; the layout still gives the canvas all the room there is.

Threading rule: GUI thread only.
"""
from __future__ import annotations

from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PyQt5.QtCore import QSize
from PyQt5.QtWidgets import QSizePolicy

HINT = (480, 320)
MINIMUM = (300, 200)


class ChartCanvas(FigureCanvasQTAgg):
    def __init__(self, figure: Figure, hint: tuple[int, int] = HINT,
                 minimum: tuple[int, int] = MINIMUM) -> None:
        super().__init__(figure)
        self._hint, self._minimum = QSize(*hint), QSize(*minimum)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self._hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self._minimum
