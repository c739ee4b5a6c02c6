"""The gallery's filters: product, warehouse, days, verdict, operator.

Days: a period (today by default, the last 7 or 30 days, all days, or chosen days); the date
fields are for chosen days, and their calendars open at the month shown (today when no day is
set), never at the "any" placeholder's January 2000.

The choices come from the services (products and warehouses for everyone; operators for those
who may see everyone's inspections, read from the statistics, which lists who has inspected).
Operators do not get an operator filter: the service shows them their own cans only.

Threading: GUI thread only (three short reads when the bar is built or refreshed).
"""
from __future__ import annotations

from datetime import date, timedelta

from PyQt5.QtCore import QDate, QEvent, QObject, Qt, pyqtSignal
from PyQt5.QtWidgets import QComboBox, QDateEdit, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from db.records import GalleryFilter
from gui.context import AppContext
from gui.theme import VERDICT_TEXT

NO_DATE = QDate(2000, 1, 1)     # shown as "any" (special value text)
ALL_DAYS, CHOSEN = None, -1
PERIODS = (("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30), ("All days", ALL_DAYS),
           ("Chosen days", CHOSEN))


class _OpenAtToday(QObject):
    """Turns the calendar of an "any" date edit to today's month as it opens."""

    def eventFilter(self, calendar: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Show:
            edit = calendar.property("dateEdit")
            if edit is not None and edit.date() == NO_DATE:
                today = QDate.currentDate()
                calendar.setCurrentPage(today.year(), today.month())
        return False


def date_edit(name: str) -> QDateEdit:
    edit = QDateEdit(objectName=name)
    edit.setCalendarPopup(True)
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("any")
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(NO_DATE)
    # the styled drop-down button is not counted in the size hint: room for "2026-10-25"
    edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("2026-10-25") + 60)
    calendar = edit.calendarWidget()
    calendar.setProperty("dateEdit", edit)
    opener = _OpenAtToday(edit)
    calendar.installEventFilter(opener)
    return edit


class FilterBar(QWidget):
    changed = pyqtSignal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = today or date.today()
        # two rows: one row of six filters does not fit a 1366-pixel screen beside the navigation
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        self.product = QComboBox(objectName="productFilter")
        self.warehouse = QComboBox(objectName="warehouseFilter")
        self.verdict = QComboBox(objectName="verdictFilter")
        self.operator = QComboBox(objectName="operatorFilter")
        self.date_from = date_edit("dateFrom")
        self.date_to = date_edit("dateTo")
        self.period = QComboBox(objectName="period")
        for text, days in PERIODS:
            self.period.addItem(text, days)
        days_box = QWidget()
        days_row = QHBoxLayout(days_box)
        days_row.setContentsMargins(0, 0, 0, 0)
        days_row.addWidget(self.period)
        days_row.addWidget(self.date_from)
        days_row.addWidget(QLabel("to"))
        days_row.addWidget(self.date_to)
        self.verdict.addItem("Any verdict", None)
        for key, text in VERDICT_TEXT.items():
            self.verdict.addItem(text.capitalize(), key)
        for combo in (self.product, self.warehouse, self.verdict, self.operator):
            # long product names must not widen the window: show ~22 characters, elide the rest
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            # (short enough that the two rows fit beside the navigation on a 1024-pixel screen)
            combo.setMinimumContentsLength(15 if combo is self.product else 10)
        layout = ((0, 0, 1, "Product", self.product), (0, 2, 1, "Warehouse", self.warehouse),
                  (0, 4, 1, "Operator", self.operator), (1, 0, 3, "Days", days_box),
                  (1, 4, 1, "Verdict", self.verdict))
        for r, c, span, label, widget in layout:
            caption = QLabel(label)
            grid.addWidget(caption, r, c, Qt.AlignRight | Qt.AlignVCenter)
            grid.addWidget(widget, r, c + 1, 1, span)
            if widget is self.operator:
                self._operator_caption = caption
        # the panel places it (beside its actions): a seventh column did not fit 1024 pixels
        self.reset_button = QPushButton("Reset filters", objectName="resetFilters")
        self.reset_button.clicked.connect(self.reset)
        grid.setColumnStretch(6, 1)
        self._apply_period()
        self.show_operators = ctx.can("inspection.view_all")
        self.operator.setVisible(self.show_operators)
        self._operator_caption.setVisible(self.show_operators)
        self.refresh_choices()
        for combo in (self.product, self.warehouse, self.verdict, self.operator):
            combo.currentIndexChanged.connect(self.changed)
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(self.changed)
        self.period.currentIndexChanged.connect(self._period_chosen)

    # -- days ------------------------------------------------------------------------------------
    def _period_chosen(self) -> None:
        self._apply_period()
        self.changed.emit()

    def _apply_period(self) -> None:
        """Fill the date fields from the period (they are editable for chosen days only)."""
        days = self.period.currentData()
        chosen = days == CHOSEN
        for edit in (self.date_from, self.date_to):
            edit.setEnabled(chosen)
            edit.blockSignals(True)
        if days == ALL_DAYS:
            self.date_from.setDate(NO_DATE)
            self.date_to.setDate(NO_DATE)
        elif chosen:
            for edit in (self.date_from, self.date_to):
                if edit.date() == NO_DATE:      # start from today, not from "any"
                    edit.setDate(_qdate(self.today))
        else:
            self.date_from.setDate(_qdate(self.today - timedelta(days=days - 1)))
            self.date_to.setDate(_qdate(self.today))
        for edit in (self.date_from, self.date_to):
            edit.blockSignals(False)

    def refresh_choices(self) -> None:
        """Re-read products, warehouses and operators, keeping the current choices."""
        st, actor = self.ctx.station, self.ctx.actor
        self._fill(self.product, "All products",
                   [(f"{p.sku} — {p.name}", p.id) for p in st.products.list(actor)])
        self._fill(self.warehouse, "All warehouses",
                   [(w.name, w.id) for w in st.warehouses.list(actor)])
        if self.show_operators:
            self._fill(self.operator, "All operators",
                       [(r.label, r.key) for r in st.stats.per_operator(actor)])

    @staticmethod
    def _fill(combo: QComboBox, any_text: str, items: list[tuple[str, int]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(any_text, None)
        for text, key in items:
            combo.addItem(text, key)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def filter(self) -> GalleryFilter:
        return GalleryFilter(product_id=self.product.currentData(),
                             warehouse_id=self.warehouse.currentData(),
                             date_from=self._day(self.date_from), date_to=self._day(self.date_to),
                             verdict=self.verdict.currentData(),
                             operator_id=self.operator.currentData() if self.show_operators
                             else None)

    def chosen(self) -> list[tuple[str, str]]:
        """(caption, chosen text) of each filter that is set, for a person to read."""
        out = []
        for caption, combo in (("product", self.product), ("warehouse", self.warehouse),
                               ("operator", self.operator), ("verdict", self.verdict)):
            if combo.currentData() is not None and (combo is not self.operator
                                                    or self.show_operators):
                out.append((caption, combo.currentText()))
        f = self.filter()
        if f.date_from or f.date_to:
            out.append(("days", f"{f.date_from or '…'} to {f.date_to or '…'}"))
        return out

    @staticmethod
    def _day(edit: QDateEdit) -> date | None:
        d = edit.date()
        return None if d == NO_DATE else date(d.year(), d.month(), d.day())

    def set_dates(self, first: date | None, last: date | None) -> None:
        """Chosen days (None and None: all days)."""
        self.blockSignals(True)
        self.period.setCurrentIndex(self.period.findData(
            ALL_DAYS if first is None and last is None else CHOSEN))
        for edit, value in ((self.date_from, first), (self.date_to, last)):
            edit.setDate(NO_DATE if value is None else _qdate(value))
        self.blockSignals(False)
        self.changed.emit()

    def reset(self) -> None:
        """Back to the defaults: everything, today."""
        self.blockSignals(True)
        for combo in (self.product, self.warehouse, self.verdict, self.operator):
            combo.setCurrentIndex(0)
        self.period.setCurrentIndex(0)
        self._apply_period()
        self.blockSignals(False)
        self.changed.emit()


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
