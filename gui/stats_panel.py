"""Statistics (supervisors): defect rate per day, per product, per side, per operator, and the
pass / review / reject counts, for a chosen period, as matplotlib charts in the window.

The numbers come from ``station.stats`` (aggregated in the database, so 100 000 inspections are
a few grouped queries, not rows in memory), read in a worker; the charts are drawn on the GUI
thread into one ``FigureCanvasQTAgg``.

Threading: GUI thread only, except ``load_stats`` which runs in a worker.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PyQt5.QtCore import QDate
from PyQt5.QtGui import QShowEvent
from PyQt5.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from db.dto import RateRow, VerdictCounts
from db.records import GalleryFilter
from gui.context import AppContext
from gui.errors import error_text
from gui.gallery.filter_bar import NO_DATE, FilterBar, date_edit
from app.stats_charts import draw_charts
from gui.workers import TaskHandle, start_task

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("All time", None),
           ("Chosen dates", -1))


@dataclass(frozen=True)
class StatsData:
    summary: VerdictCounts
    per_day: list[RateRow]
    per_product: list[RateRow]
    per_side: list[RateRow]
    per_operator: list[RateRow]


def load_stats(progress: Any, stats: Any, actor: Any, f: GalleryFilter) -> StatsData:
    """Worker side: the five aggregates for one period."""
    out = []
    for n, fn in enumerate((stats.summary, stats.per_day, stats.per_product, stats.per_side,
                            stats.per_operator)):
        progress.check()
        out.append(fn(actor, f))
        progress.report(n + 1, 5, "")
    return StatsData(*out)


class StatsPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = today or date.today()
        self.data: StatsData | None = None
        self._task: TaskHandle | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 14, 20, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel("Statistics", objectName="panelTitle"))
        top.addStretch(1)
        top.addWidget(QLabel("Period"))
        self.period = QComboBox(objectName="period")
        for text, days in PERIODS:
            self.period.addItem(text, days)
        self.period.setCurrentIndex(1)
        self.date_from, self.date_to = date_edit("statsFrom"), date_edit("statsTo")
        top.addWidget(self.period)
        top.addWidget(self.date_from)
        top.addWidget(QLabel("to"))
        top.addWidget(self.date_to)
        self.refresh_button = QPushButton("Refresh", objectName="refreshStats")
        top.addWidget(self.refresh_button)
        col.addLayout(top)
        self.summary = QLabel("Loading…", objectName="countLabel")
        self.summary.setWordWrap(True)
        col.addWidget(self.summary)
        self.figure = Figure(figsize=(12, 6), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        col.addWidget(self.canvas, 1)
        self.period.currentIndexChanged.connect(self._period_changed)
        self.date_from.dateChanged.connect(lambda _d: self._dates_edited())
        self.date_to.dateChanged.connect(lambda _d: self._dates_edited())
        self.refresh_button.clicked.connect(self.refresh)
        self._period_changed()

    # -- period -----------------------------------------------------------------------------
    def _period_changed(self) -> None:
        days = self.period.currentData()
        chosen = days == -1
        self.date_from.setEnabled(chosen)
        self.date_to.setEnabled(chosen)
        if not chosen:
            first = None if days is None else self.today - timedelta(days=days - 1)
            self._set_dates(first, None if days is None else self.today)
            self.refresh()

    def _set_dates(self, first: date | None, last: date | None) -> None:
        for edit, value in ((self.date_from, first), (self.date_to, last)):
            edit.blockSignals(True)
            edit.setDate(NO_DATE if value is None else QDate(value.year, value.month, value.day))
            edit.blockSignals(False)

    def _dates_edited(self) -> None:
        if self.period.currentData() == -1:
            self.refresh()

    def choose_dates(self, first: date | None, last: date | None) -> None:
        """Pick "Chosen dates" with these days (used by tests and the screenshot script)."""
        self.period.blockSignals(True)
        self.period.setCurrentIndex(self.period.findData(-1))
        self.period.blockSignals(False)
        self.date_from.setEnabled(True)
        self.date_to.setEnabled(True)
        self._set_dates(first, last)
        self.refresh()

    def current_filter(self) -> GalleryFilter:
        return GalleryFilter(date_from=FilterBar._day(self.date_from),
                             date_to=FilterBar._day(self.date_to))

    # -- loading ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done

    def refresh(self) -> None:
        if self.busy:
            self._task.cancel()     # a newer period wins; the old result is dropped
        self.summary.setText("Loading…")
        task = start_task(self, load_stats, self.ctx.station.stats, self.ctx.actor,
                          self.current_filter(), name="statistics",
                          on_success=lambda d: self._loaded(task, d),
                          on_error=lambda e: self._failed(task, e))
        self._task = task

    def _failed(self, task: TaskHandle, exc: BaseException) -> None:
        if task is self._task and not task.cancelled:
            self.summary.setText(error_text(exc, self.ctx.log_path, "reading statistics"))

    def _loaded(self, task: TaskHandle, data: StatsData) -> None:
        if task is not self._task:
            return
        self.data = data
        s = data.summary
        self.summary.setText(
            f"{s.total:,} cans: {s.passed:,} pass, {s.review:,} review, {s.rejected:,} reject — "
            f"defect rate {s.defect_rate:.1%}" if s.total else "No inspections in this period.")
        draw_charts(self.figure, data)
        self.canvas.draw_idle()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.data is not None and not self.busy:
            self.refresh()          # cans inspected since the last look count too

    def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task.wait()
