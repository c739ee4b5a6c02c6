"""The gallery's filters: product, warehouse, dates, verdict, operator.

The choices come from the services (products and warehouses for everyone; operators for those
who may see everyone's inspections, read from the statistics, which lists who has inspected).
Operators do not get an operator filter: the service shows them their own cans only.

Threading: GUI thread only (three short reads when the bar is built or refreshed).
"""
from __future__ import annotations

from datetime import date

from PyQt5.QtCore import QDate, Qt, pyqtSignal
from PyQt5.QtWidgets import QComboBox, QDateEdit, QGridLayout, QLabel, QPushButton, QWidget

from db.records import GalleryFilter
from gui.context import AppContext
from gui.theme import VERDICT_TEXT

NO_DATE = QDate(2000, 1, 1)     # shown as "any" (special value text)


def date_edit(name: str) -> QDateEdit:
    edit = QDateEdit(objectName=name)
    edit.setCalendarPopup(True)
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("any")
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(NO_DATE)
    # the styled drop-down button is not counted in the size hint: room for "2026-10-25"
    edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("2026-10-25") + 60)
    return edit


class FilterBar(QWidget):
    changed = pyqtSignal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
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
        self.verdict.addItem("Any verdict", None)
        for key, text in VERDICT_TEXT.items():
            self.verdict.addItem(text.capitalize(), key)
        for combo in (self.product, self.warehouse, self.verdict, self.operator):
            # long product names must not widen the window: show ~22 characters, elide the rest
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(22 if combo is self.product else 14)
        layout = ((0, 0, "Product", self.product), (0, 2, "Warehouse", self.warehouse),
                  (0, 4, "Operator", self.operator), (1, 0, "From", self.date_from),
                  (1, 2, "To", self.date_to), (1, 4, "Verdict", self.verdict))
        for r, c, label, widget in layout:
            caption = QLabel(label)
            grid.addWidget(caption, r, c, Qt.AlignRight | Qt.AlignVCenter)
            grid.addWidget(widget, r, c + 1)
            if widget is self.operator:
                self._operator_caption = caption
        self.reset_button = QPushButton("Reset filters", objectName="resetFilters")
        self.reset_button.clicked.connect(self.reset)
        grid.addWidget(self.reset_button, 1, 6)
        grid.setColumnStretch(7, 1)
        self.show_operators = ctx.can("inspection.view_all")
        self.operator.setVisible(self.show_operators)
        self._operator_caption.setVisible(self.show_operators)
        self.refresh_choices()
        for combo in (self.product, self.warehouse, self.verdict, self.operator):
            combo.currentIndexChanged.connect(self.changed)
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(self.changed)

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
        for edit, value in ((self.date_from, first), (self.date_to, last)):
            edit.setDate(NO_DATE if value is None else QDate(value.year, value.month, value.day))

    def reset(self) -> None:
        self.blockSignals(True)
        for combo in (self.product, self.warehouse, self.verdict, self.operator):
            combo.setCurrentIndex(0)
        self.set_dates(None, None)
        self.blockSignals(False)
        self.changed.emit()
