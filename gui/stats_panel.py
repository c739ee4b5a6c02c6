"""Statistics (supervisors): for a product (or all) and a period, the defect rate per day, per
product, per side and per operator with the pass / review / reject counts (Overview), and the
control charts (Control charts); and the shift report, one click away.

The numbers come from ``station.stats`` (aggregated in the database, so 100 000 inspections are
a few grouped queries, not rows in memory), read in a worker; the charts are drawn on the GUI
thread. The shift report is written in a worker into ``<data folder>/reports``.

Threading: GUI thread only, except ``load_stats`` and the report, which run in workers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from PyQt5.QtCore import QDate, QUrl
from PyQt5.QtGui import QDesktopServices, QShowEvent
from PyQt5.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.shift_report import ShiftReport, build_shift_report
from app.spc import DEFAULT_SHIFTS, ShiftWindow, shift_at
from app.stats_charts import draw_charts
from db.dto import HourRow, RateRow, VerdictCounts
from db.records import GalleryFilter
from gui.context import AppContext
from gui.errors import error_text
from gui.gallery.filter_bar import NO_DATE, FilterBar, date_edit
from gui.spc_view import SpcView
from gui.widgets.chart_canvas import ChartCanvas
from gui.workers import TaskHandle, start_task

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("All time", None),
           ("Chosen dates", -1))


@dataclass(frozen=True)
class StatsData:
    product_id: int | None
    summary: VerdictCounts
    per_day: list[RateRow]
    per_product: list[RateRow]
    per_side: list[RateRow]
    per_operator: list[RateRow]
    hours: list[HourRow]              # for the control charts (one product)
    side_hours: list[HourRow]


def load_stats(progress: Any, stats: Any, actor: Any, f: GalleryFilter) -> StatsData:
    """Worker side: the aggregates for one period; the per-side ones and the hourly counts of
    the control charts only for one product (side names belong to a product)."""
    one = f.product_id is not None
    calls = [stats.summary, stats.per_day, stats.per_product,
             stats.per_side if one else None, stats.per_operator,
             stats.per_hour if one else None, (lambda a, g: stats.per_hour(a, g, sides=True))
             if one else None]
    out: list[Any] = []
    for n, fn in enumerate(calls):
        progress.check()
        out.append(fn(actor, f) if fn is not None else [])
        progress.report(n + 1, len(calls), "")
    return StatsData(f.product_id, *out)


class StatsPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = today or date.today()
        self.data: StatsData | None = None
        self.last_report: ShiftReport | None = None
        self._task: TaskHandle | None = None
        self._report_task: TaskHandle | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(14, 12, 14, 10)
        top = QHBoxLayout()
        top.addWidget(QLabel("Statistics", objectName="panelTitle"))
        top.addStretch(1)
        self.refresh_button = QPushButton("Refresh", objectName="refreshStats")
        top.addWidget(self.refresh_button)
        self.report_button = QToolButton(objectName="shiftReport")
        self.report_button.setText("Shift report (PDF)")
        self.report_button.setToolTip("Write the report of the shift now running; the arrow "
                                      "offers the previous shift")
        self.report_button.setPopupMode(QToolButton.MenuButtonPopup)
        menu = QMenu(self.report_button)
        menu.addAction("This shift", lambda: self.shift_report(previous=False))
        menu.addAction("The previous shift", lambda: self.shift_report(previous=True))
        self.report_button.setMenu(menu)
        self.report_button.clicked.connect(lambda: self.shift_report(previous=False))
        top.addWidget(self.report_button)
        col.addLayout(top)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Product"))
        self.product = QComboBox(objectName="statsProduct")
        self.product.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.product.setMinimumContentsLength(14)
        pick.addWidget(self.product)
        pick.addSpacing(12)
        pick.addWidget(QLabel("Period"))
        self.period = QComboBox(objectName="period")
        for text, days in PERIODS:
            self.period.addItem(text, days)
        self.period.setCurrentIndex(1)
        self.date_from, self.date_to = date_edit("statsFrom"), date_edit("statsTo")
        pick.addWidget(self.period)
        pick.addWidget(self.date_from)
        pick.addWidget(QLabel("to"))
        pick.addWidget(self.date_to)
        pick.addStretch(1)
        col.addLayout(pick)
        self.summary = QLabel("Loading…", objectName="countLabel")
        self.summary.setWordWrap(True)
        self.summary.linkActivated.connect(lambda link: QDesktopServices.openUrl(QUrl(link)))
        col.addWidget(self.summary)
        self.tabs = QTabWidget(objectName="statsTabs")
        self.figure = Figure(figsize=(12, 6), layout="constrained")
        self.canvas = ChartCanvas(self.figure)
        self.spc = SpcView(self)
        self.tabs.addTab(self.canvas, "Overview")
        self.tabs.addTab(self.spc, "Control charts")
        col.addWidget(self.tabs, 1)
        self._fill_products()
        self.product.currentIndexChanged.connect(self.refresh)
        self.period.currentIndexChanged.connect(self._period_changed)
        self.date_from.dateChanged.connect(lambda _d: self._dates_edited())
        self.date_to.dateChanged.connect(lambda _d: self._dates_edited())
        self.refresh_button.clicked.connect(self.refresh)
        self._period_changed()

    def _fill_products(self) -> None:
        try:
            products = self.ctx.station.products.list(self.ctx.actor)
        except Exception as exc:  # noqa: BLE001 - shown; the panel stays usable
            products = []
            self.summary.setText(error_text(exc, self.ctx.log_path, "listing products"))
        self.product.addItem("All products", None)
        for p in products:
            self.product.addItem(f"{p.sku} — {p.name}", p.id)
        self._skus = {p.id: p.sku for p in products}

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

    def choose_product(self, product_id: int | None) -> None:
        self.product.setCurrentIndex(max(0, self.product.findData(product_id)))

    def current_filter(self) -> GalleryFilter:
        return GalleryFilter(product_id=self.product.currentData(),
                             date_from=FilterBar._day(self.date_from),
                             date_to=FilterBar._day(self.date_to))

    # -- loading ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return any(t is not None and not t.done for t in (self._task, self._report_task))

    def refresh(self) -> None:
        if self._task is not None and not self._task.done:
            self._task.cancel()     # a newer choice wins; the old result is dropped
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
        sku = self._skus.get(data.product_id) if data.product_id is not None else None
        self.spc.set_data(sku, data.hours, data.side_hours)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.data is not None and not self.busy:
            self.refresh()          # cans inspected since the last look count too

    # -- the shift report -----------------------------------------------------------------------
    def shift_window(self, previous: bool = False,
                     now: datetime | None = None) -> ShiftWindow:
        window = shift_at(now or datetime.now(timezone.utc), DEFAULT_SHIFTS)
        return shift_at(window.start - timedelta(minutes=1), DEFAULT_SHIFTS) if previous \
            else window

    def shift_report(self, previous: bool = False, now: datetime | None = None,
                     folder: Path | None = None) -> TaskHandle | None:
        """Write the report of this (or the previous) shift into the reports folder."""
        if self._report_task is not None and not self._report_task.done:
            return None
        window = self.shift_window(previous, now)
        folder = folder or self.ctx.settings.data_dir / "reports"
        name = self.ctx.settings.station_name
        path = folder / f"shift-{window.day:%Y-%m-%d}-{window.shift.name.lower()}.pdf"
        self.report_button.setEnabled(False)
        self.summary.setText(f"Writing the report of the {window.shift.name} shift…")
        self._report_task = start_task(
            self, build_shift_report, self.ctx.station, self.ctx.actor, window, path, name,
            name="shift report", on_success=self._report_done,
            on_error=lambda e: self.summary.setText(error_text(e, self.ctx.log_path,
                                                               "writing the shift report")),
            on_finished=lambda: self.report_button.setEnabled(True))
        return self._report_task

    def _report_done(self, report: ShiftReport) -> None:
        self.last_report = report
        url = QUrl.fromLocalFile(str(report.path)).toString()
        self.summary.setText(f"Shift report written: {report.cans:,} cans, {report.rejected:,} "
                             f"rejected, {report.pages} pages — <a href='{url}'>{report.path}</a>")

    def shutdown(self) -> None:
        for task in (self._task, self._report_task):
            if task is not None and not task.done:
                task.cancel()
                task.wait()
