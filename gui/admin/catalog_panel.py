"""The shape shared by the admin panels: a title, a search box, a sortable table over a service
list, and a row of buttons acting on the selected record.

The rows come from a ``ListTableModel`` (catalogues are small: the service returns them whole);
a ``RowFilterProxy`` (Qt's ``QSortFilterProxyModel``) searches and sorts them. The table reloads
when the panel is shown, so numbers another panel changed (a warehouse's free space after a product
moved) are current.

Threading: GUI thread only. List calls are one short read each; edits that may be slow run in
the dialogs' workers (see ``form_dialog``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QShowEvent
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.context import AppContext
from gui.errors import show_error
from gui.table_models import Column, ListTableModel, RowFilterProxy


class CatalogPanel(QWidget):
    def __init__(self, ctx: AppContext, title: str, hint: str, columns: Sequence[Column],
                 load: Callable[[], list], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.source = ListTableModel(columns, load, self)
        self.model = RowFilterProxy(self.source, self)   # what the table shows: searched, sorted
        self._selection_buttons: list[QPushButton] = []
        self.dialog: QWidget | None = None     # the edit dialog opened last (tests reach it here)

        col = QVBoxLayout(self)
        col.setContentsMargins(20, 14, 20, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel(title, objectName="panelTitle"))
        top.addStretch(1)
        self.search = QLineEdit(objectName="search")
        self.search.setPlaceholderText("Search…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self.search.textChanged.connect(self.model.set_search)
        top.addWidget(self.search)
        col.addLayout(top)
        if hint:
            label = QLabel(hint, objectName="hint")
            label.setWordWrap(True)
            col.addWidget(label)

        self.table = QTableView(objectName="table")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.activated.connect(lambda _i: self.on_activated())   # double-click or Enter
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        col.addWidget(self.table, 1)

        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        col.addLayout(self.buttons)

    # -- for subclasses -----------------------------------------------------------------------
    def add_button(self, text: str, name: str, slot: Callable[[], None],
                   needs_selection: bool = True, primary: bool = False) -> QPushButton:
        button = QPushButton(text, objectName=name)
        if primary:
            button.setProperty("primary", True)
        button.clicked.connect(slot)
        self.buttons.insertWidget(self.buttons.count() - 1, button)
        if needs_selection:
            self._selection_buttons.append(button)
            button.setEnabled(False)
        return button

    def on_activated(self) -> None:
        """Double-click on a row; subclasses open their edit dialog."""

    def selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def select_where(self, predicate: Callable[[Any], bool]) -> None:
        row = self.model.find(predicate)
        if row >= 0:
            self.table.selectRow(row)

    def reload(self, keep_id: int | None = None) -> None:
        """Ask the service again and reselect the record ``keep_id`` (or the one selected)."""
        current = self.selected()
        keep_id = keep_id if keep_id is not None else getattr(current, "id", None)
        try:
            self.source.reload()
        except Exception as exc:  # noqa: BLE001 - a failed read must not close the panel
            show_error(self, exc, self.ctx.log_path, context="loading the list")
            return
        self.table.resizeColumnsToContents()
        if keep_id is not None:
            self.select_where(lambda r: r.id == keep_id)

    def call_service(self, what: str, fn: Callable[[], Any]) -> Any | None:
        """Run a quick service call (one short transaction); show its error, reload either way."""
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - shown to the person (gui.errors decides how)
            show_error(self, exc, self.ctx.log_path, context=what)
            result = None
        self.reload()
        return result

    def confirm(self, text: str, on_yes: Callable[[], None], yes_text: str = "Yes") -> QMessageBox:
        """A window-modal question opened without a nested event loop; ``on_yes`` on Yes."""
        box = QMessageBox(QMessageBox.Question, "Please confirm", text,
                          QMessageBox.Yes | QMessageBox.Cancel, self)
        box.setObjectName("confirmBox")
        box.button(QMessageBox.Yes).setText(yes_text)
        box.setDefaultButton(QMessageBox.Cancel)
        box.setAttribute(Qt.WA_DeleteOnClose)
        # QMessageBox finishes with the button's code, not Accepted: look at the button itself
        box.buttonClicked.connect(
            lambda b: on_yes() if box.standardButton(b) == QMessageBox.Yes else None)
        box.open()
        return box

    def open_dialog(self, dialog: QWidget, keep: Callable[[Any], int | None] = lambda r: r.id) -> None:
        """Open an edit dialog; reload and select the saved record when it saves."""
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.saved.connect(lambda result: self.reload(keep(result)))
        dialog.open()
        self.dialog = dialog

    # -- internals ------------------------------------------------------------------------------
    def _update_buttons(self, *_: object) -> None:
        has = self.selected() is not None
        for button in self._selection_buttons:
            button.setEnabled(has)
        self.on_selection(self.selected())

    def on_selection(self, row: Any | None) -> None:
        """Subclasses relabel buttons for the selected record (e.g. Deactivate / Activate)."""

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.reload()
