"""The audit log (admins): who did what and when, filtered, a page at a time, exported as CSV.

Filters: who (the names in the log: users, "system", names typed at failed sign-ins), what (an
area such as "user." or one action), when (from / to day, inclusive). Pages of ``PAGE`` events,
newest first, with the total count; "Older" and "Newer" walk the log, so a log of a million
events is never loaded whole. Export CSV writes the filtered events (all pages).

Threading: GUI thread only; every service call (choices, count + page, export) runs in a worker.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QShowEvent
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.dto import AuditEntry
from db.services.audit import AuditFilter
from gui.context import AppContext
from gui.errors import error_text
from gui.gallery.filter_bar import FilterBar, date_edit
from gui.table_models import Column, ListTableModel
from gui.workers import TaskHandle, start_task

PAGE = 100
AREAS = (("Sign-ins", "auth."), ("Users", "user."), ("Inspections", "inspection."),
         ("Corrections", "correction."), ("Products", "product."), ("Warehouses", "warehouse."),
         ("Models", "model."), ("Audit log", "audit."))


def details_text(details: dict) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
                     for k, v in sorted(details.items()))


COLUMNS = (Column("When", lambda e: f"{e.at.astimezone():%Y-%m-%d %H:%M:%S}"),
           Column("Who", lambda e: e.username),
           Column("What", lambda e: e.action),
           Column("Target", lambda e: e.target),
           Column("Details", lambda e: details_text(e.details)))


def load_page(progress, audit, actor, f: AuditFilter, offset: int) -> tuple[int, list[AuditEntry]]:
    """Worker side: the count and one page."""
    total = audit.count(actor, f)
    progress.check()
    return total, audit.list(actor, f, offset=offset, limit=PAGE)


class AuditPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.offset = 0
        self.total = 0
        self._rows: list[AuditEntry] = []
        self._task: TaskHandle | None = None
        self._export: TaskHandle | None = None
        self._choices: TaskHandle | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 14, 20, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel("Audit log", objectName="panelTitle"))
        top.addStretch(1)
        self.export_button = QPushButton("Export CSV…", objectName="exportAudit")
        self.export_button.clicked.connect(self._ask_export)
        top.addWidget(self.export_button)
        col.addLayout(top)

        filters = QGridLayout()
        filters.setHorizontalSpacing(8)
        self.who = QComboBox(objectName="auditWho")
        self.what = QComboBox(objectName="auditWhat")
        for combo in (self.who, self.what):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        self.since, self.until = date_edit("auditFrom"), date_edit("auditTo")
        # two rows: one row of four filters is wider than a 1024-pixel screen
        for r, c, caption, widget in ((0, 0, "Who", self.who), (0, 2, "What", self.what),
                                      (1, 0, "From", self.since), (1, 2, "To", self.until)):
            filters.addWidget(QLabel(caption), r, c, Qt.AlignRight | Qt.AlignVCenter)
            filters.addWidget(widget, r, c + 1)
        self.reset_button = QPushButton("Reset filters", objectName="auditReset")
        self.reset_button.clicked.connect(self.reset)
        filters.addWidget(self.reset_button, 1, 4)
        filters.setColumnStretch(5, 1)
        col.addLayout(filters)

        self.model = ListTableModel(COLUMNS, lambda: self._rows, self)
        self.model.CHUNK = PAGE
        self.table = QTableView(objectName="auditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for i in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        col.addWidget(self.table, 1)

        pager = QHBoxLayout()
        self.status = QLabel("Loading…", objectName="countLabel")
        self.status.setWordWrap(True)
        pager.addWidget(self.status, 1)
        self.first_button = QPushButton("Newest", objectName="auditFirst")
        self.newer_button = QPushButton("◀ Newer", objectName="auditNewer")
        self.older_button = QPushButton("Older ▶", objectName="auditOlder")
        self.last_button = QPushButton("Oldest", objectName="auditLast")
        for button, target in ((self.first_button, lambda: 0),
                               (self.newer_button, lambda: max(0, self.offset - PAGE)),
                               (self.older_button, lambda: self.offset + PAGE),
                               (self.last_button, lambda: max(0, (self.total - 1) // PAGE * PAGE))):
            button.clicked.connect(lambda _=False, t=target: self.load(t()))
            pager.addWidget(button)
        col.addLayout(pager)

        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(lambda: self.load(0))
        for combo in (self.who, self.what):
            combo.currentIndexChanged.connect(self._debounce.start)
        for edit in (self.since, self.until):
            edit.dateChanged.connect(self._debounce.start)
        self._fill_choices([], [])
        self._update_pager()

    # -- filters -------------------------------------------------------------------------------
    def _fill_choices(self, names: list[str], actions: list[str]) -> None:
        for combo, any_text, items in (
                (self.who, "Anyone", [(n, n) for n in names]),
                (self.what, "Anything", [(f"{t} (all)", p) for t, p in AREAS]
                 + [(a, a) for a in actions])):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(any_text, None)
            for text, data in items:
                combo.addItem(text, data)
            combo.setCurrentIndex(max(0, combo.findData(keep)))
            combo.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        first, last = FilterBar._day(self.since), FilterBar._day(self.until)
        return AuditFilter(since=_local_midnight(first) if first else None,
                           until=_local_midnight(last + timedelta(days=1)) if last else None,
                           action=self.what.currentData(), username=self.who.currentData())

    def reset(self) -> None:
        for w in (self.who, self.what, self.since, self.until):
            w.blockSignals(True)
        self.who.setCurrentIndex(0)
        self.what.setCurrentIndex(0)
        self.since.setDate(self.since.minimumDate())
        self.until.setDate(self.until.minimumDate())
        for w in (self.who, self.what, self.since, self.until):
            w.blockSignals(False)
        self.load(0)

    # -- loading -------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return any(t is not None and not t.done
                   for t in (self._task, self._export, self._choices)) \
            or self._debounce.isActive()

    def load(self, offset: int = 0) -> None:
        self._debounce.stop()
        if self._task is not None and not self._task.done:
            self._task.cancel()
        audit, actor, f = self.ctx.station.audit, self.ctx.actor, self.current_filter()
        self.status.setText("Loading…")
        task = start_task(self, load_page, audit, actor, f, max(0, offset), name="audit page",
                          on_success=lambda r: self._loaded(task, offset, *r),
                          on_error=lambda e: self._failed(task, e),
                          on_finished=self._update_pager)
        self._task = task
        self._update_pager()

    def _loaded(self, task: TaskHandle, offset: int, total: int, rows: list[AuditEntry]) -> None:
        if task is not self._task:
            return
        self.offset, self.total, self._rows = offset, total, rows
        self.model.reload()
        if total:
            self.status.setText(f"Events {offset + 1:,}–{offset + len(rows):,} of {total:,}, "
                                "newest first")
        else:
            self.status.setText("No event matches these filters.")
        self._update_pager()

    def _failed(self, task: TaskHandle, exc: BaseException) -> None:
        if task is self._task and not task.cancelled:
            self.status.setText(error_text(exc, self.ctx.log_path, "reading the audit log"))
        self._update_pager()

    def _update_pager(self) -> None:
        loading = self._task is not None and not self._task.done
        self.first_button.setEnabled(not loading and self.offset > 0)
        self.newer_button.setEnabled(not loading and self.offset > 0)
        more = self.offset + PAGE < self.total
        self.older_button.setEnabled(not loading and more)
        self.last_button.setEnabled(not loading and more)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        audit, actor = self.ctx.station.audit, self.ctx.actor
        self._choices = start_task(self, lambda _p: audit.choices(actor), name="audit choices",
                                   on_success=lambda r: self._fill_choices(*r))
        self.load(self.offset)

    # -- export --------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the audit log",
                                              str(Path.home() / "audit-log.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> TaskHandle | None:
        if self._export is not None and not self._export.done:
            return None
        audit, actor, f = self.ctx.station.audit, self.ctx.actor, self.current_filter()
        self.export_button.setEnabled(False)
        self.status.setText(f"Writing {path.name}…")
        self._export = start_task(
            self, lambda _p: audit.export_csv(actor, path, f), name="audit export",
            on_success=lambda n: self.status.setText(f"{n:,} events written to {path}"),
            on_error=lambda e: self.status.setText(error_text(e, self.ctx.log_path,
                                                              "exporting the audit log")),
            on_finished=lambda: self.export_button.setEnabled(True))
        return self._export

    def shutdown(self) -> None:
        for task in (self._task, self._export, self._choices):
            if task is not None and not task.done:
                task.cancel()
                task.wait()


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone()
