"""The control-chart tab of Statistics: a p-chart of one product's reject or review rate per
day or per shift, for the whole can or one side, with the flagged points listed beside it.

The numbers are the statistics panel's (hourly counts from ``stats.per_hour``, loaded in its
worker); this tab only folds them (``app.spc``) and draws (``app.spc_chart``) on the GUI thread,
a few milliseconds for months of shifts.

Threading: GUI thread only.
"""
from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from PyQt5.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from app.spc import DEFAULT_SHIFTS, PChart, Shift, charts, describe
from app.spc_chart import draw_p_chart
from db.dto import HourRow
from gui.widgets.chart_canvas import ChartCanvas

WHOLE_CAN = ""


class SpcView(QWidget):
    def __init__(self, parent: QWidget | None = None,
                 shifts: Sequence[Shift] = DEFAULT_SHIFTS) -> None:
        super().__init__(parent)
        self.shifts = tuple(shifts)
        self.chart: PChart | None = None
        self._cans: list[HourRow] = []
        self._sides: list[HourRow] = []
        self._product: str | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 6, 0, 0)
        row = QHBoxLayout()
        self.rate = QComboBox(objectName="spcRate")
        self.rate.addItem("Reject rate", "reject")
        self.rate.addItem("Review rate", "review")
        self.period = QComboBox(objectName="spcPeriod")
        self.period.addItem("per day", "day")
        self.period.addItem("per shift", "shift")
        self.part = QComboBox(objectName="spcPart")
        self.part.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.part.setMinimumContentsLength(14)
        for caption, widget in (("Chart", self.rate), ("", self.period), ("of", self.part)):
            if caption:
                row.addWidget(QLabel(caption))
            row.addWidget(widget)
        row.addStretch(1)
        col.addLayout(row)
        body = QHBoxLayout()
        self.figure = Figure(figsize=(9, 4), layout="constrained")
        self.canvas = ChartCanvas(self.figure)
        body.addWidget(self.canvas, 3)
        # scrolls on its own: a long list must not make the panel taller than the screen
        self.signals = QTextBrowser(objectName="spcSignals")
        self.signals.setMinimumWidth(220)
        self.signals.setMaximumWidth(340)
        self.signals.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Ignored)
        body.addWidget(self.signals, 1)
        col.addLayout(body, 1)
        for combo in (self.rate, self.period, self.part):
            combo.currentIndexChanged.connect(self.redraw)

    def set_data(self, product: str | None, cans: list[HourRow], sides: list[HourRow]) -> None:
        """``product`` (its SKU) None: no chart, limits belong to one product's process."""
        self._product, self._cans, self._sides = product, cans, sides
        keep = self.part.currentData()
        self.part.blockSignals(True)
        self.part.clear()
        self.part.addItem("the whole can", WHOLE_CAN)
        for name in sorted({r.side for r in sides if r.side}):
            self.part.addItem(f"side {name}", name)
        self.part.setCurrentIndex(max(0, self.part.findData(keep)))
        self.part.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        self.figure.clear()
        ax = self.figure.add_subplot(1, 1, 1)
        if self._product is None:
            self.chart = None
            ax.set_axis_off()
            ax.text(0.5, 0.5, "Choose a product above: control limits describe one product's "
                    "process.", ha="center", va="center", fontsize=11, transform=ax.transAxes)
            self.signals.setText("")
            self.canvas.draw_idle()
            return
        part, rate = self.part.currentData(), self.rate.currentData()
        rows = self._cans if part == WHOLE_CAN else [r for r in self._sides if r.side == part]
        found = charts(rows, self.period.currentData(), rate, self.shifts)
        self.chart = found[0] if found else PChart(self._product, 0.0, ())
        what = f"{'reject' if rate == 'reject' else 'review'} rate" + (
            f", side {part}" if part else "")
        draw_p_chart(ax, self.chart, what)
        self.signals.setText(self._signals_text())
        self.canvas.draw_idle()

    def _signals_text(self) -> str:
        chart = self.chart
        if chart is None or not chart.points:
            return ""
        flagged = chart.flagged
        head = (f"<b>{len(chart.points)} periods</b>, centre {chart.centre:.1%}.<br>")
        if not chart.run_rules:
            head += ("<i>Too few cans per period for the run rules (they need n·p̄ ≥ 5): only "
                     "points outside the limits are flagged.</i><br>")
        if not flagged:
            return head + "No signal: the process looks in control."
        items = "".join(f"<li>{describe(p)}</li>" for p in reversed(flagged))
        return (head + f"<b style='color:#c62828'>{len(flagged)} point(s) flagged</b>, newest "
                f"first:<ul style='margin-left:-20px'>{items}</ul>")
