"""The gallery panel (supervisors: every inspection; operators: "My inspections").

A filter bar, the number of matching cans, a sort choice, CSV and PDF export of the filtered
set, and a grid of thumbnails over ``GalleryModel`` (pages of ``inspections.page`` fetched in
workers as the grid scrolls, thumbnails decoded off the GUI thread). Double-click or Enter opens
the can's detail with its seven sides.

Threading: GUI thread only; counting, pages, thumbnails, detail and exports run in workers.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from PyQt5.QtCore import QModelIndex, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QKeySequence, QShowEvent
from PyQt5.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QShortcut,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.report import build_report
from gui.context import AppContext
from gui.errors import error_text
from gui.gallery.delete_dialog import DeleteDialog, describe
from gui.gallery.detail_dialog import DetailDialog
from gui.gallery.filter_bar import FilterBar
from gui.gallery.grid import THUMB, CardDelegate, GalleryModel, configure_grid
from gui.gallery.thumbnails import ThumbnailCache
from gui.table_models import ROW_ROLE
from gui.theme import error_style
from gui.workers import TaskHandle, start_task

SORTS = (("Newest first", "-started"), ("Oldest first", "started"),
         ("Verdict (reject first)", "-verdict"), ("Product", "product"),
         ("Operator", "operator"), ("Warehouse", "warehouse"))


class GalleryPanel(QWidget):
    exported = pyqtSignal(object)      # the Path written (CSV or PDF)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.export_task: TaskHandle | None = None
        self.detail: DetailDialog | None = None
        self._shown_once = False
        own = not ctx.can("inspection.view_all")
        col = QVBoxLayout(self)
        col.setContentsMargins(14, 12, 14, 10)
        top = QHBoxLayout()
        top.addWidget(QLabel("My inspections" if own else "Gallery", objectName="panelTitle"))
        self.count_label = QLabel("Counting…", objectName="countLabel")
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(QLabel("Sort"))
        self.sort = QComboBox(objectName="sort")
        for text, key in SORTS:
            self.sort.addItem(text, key)
        self.sort.currentIndexChanged.connect(self._sort_changed)
        top.addWidget(self.sort)
        col.addLayout(top)
        self.filters = FilterBar(ctx, self, today=today)
        col.addWidget(self.filters)
        # the actions on the filtered set, in their own row: beside the title they made the
        # panel wider than a 1024-pixel screen
        actions = QHBoxLayout()
        actions.addWidget(self.filters.reset_button)
        actions.addStretch(1)
        self.csv_button = QPushButton("Export CSV…", objectName="exportCsv")
        self.pdf_button = QPushButton("PDF report…", objectName="exportPdf")
        self.csv_button.clicked.connect(self._ask_csv)
        self.pdf_button.clicked.connect(self._ask_pdf)
        for b in (self.csv_button, self.pdf_button):
            b.setVisible(ctx.can("inspection.export"))
            actions.addWidget(b)
        self.delete_button = QPushButton("Delete…", objectName="deleteShown")
        self.delete_button.setToolTip("Delete the inspections the filters show (admins)")
        self.delete_button.setVisible(ctx.can("inspection.delete"))
        self.delete_button.clicked.connect(self.delete_shown)
        actions.addWidget(self.delete_button)
        col.addLayout(actions)
        self.progress = QProgressBar(objectName="exportProgress")
        self.progress.hide()
        self.status = QLabel(objectName="hint")
        self.status.setWordWrap(True)
        self.status.hide()
        col.addWidget(self.progress)
        col.addWidget(self.status)

        files = getattr(ctx.station, "files", None)   # the photo store: other stations' photos
        self.thumbnails = ThumbnailCache(THUMB, parent=self,
                                         fetch=files.fetch if files is not None else None)
        st, actor = ctx.station, ctx.actor
        self.model = GalleryModel(lambda: st.inspections.count(actor, self._filter),
                                  lambda off, lim, sort: st.inspections.page(
                                      actor, self._filter, sort, off, lim),
                                  self.thumbnails, self)
        self._filter = self.filters.filter()
        self.grid = QListView(objectName="grid")
        configure_grid(self.grid)
        self.grid.setItemDelegate(CardDelegate(self.grid))
        self.grid.setModel(self.model)
        # activated = double-click or Enter (connecting doubleClicked too would open two dialogs)
        self.grid.activated.connect(self.open_detail)
        self.empty = QLabel("No inspection matches these filters.", objectName="hint")
        self.empty.setAlignment(Qt.AlignCenter)
        # one place for the grid or the "none" line: with nothing to show, the filters stay
        # where they are instead of spreading over the panel
        self.body = QStackedWidget(objectName="galleryBody")
        self.body.addWidget(self.grid)
        self.body.addWidget(self.empty)
        col.addWidget(self.body, 1)

        self.model.loaded.connect(self._counted)
        self.model.failed.connect(lambda e: self._say(error_text(e, ctx.log_path,
                                                                  "reading the gallery"), True))
        # filters change on every click of a date arrow: wait until the person pauses
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.refresh)
        self.filters.changed.connect(self._debounce.start)
        QShortcut(QKeySequence("F5"), self, self.refresh, context=Qt.WidgetWithChildrenShortcut)

    # -- data -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._debounce.stop()
        self._filter = self.filters.filter()
        self.thumbnails.clear_queue()
        self.count_label.setText("Counting…")
        self.model.refresh()

    def _counted(self, total: int) -> None:
        self.count_label.setText(f"{total:,} inspection{'s' if total != 1 else ''}")
        self.body.setCurrentWidget(self.empty if total == 0 else self.grid)

    def _sort_changed(self) -> None:
        self.model.sort_key = self.sort.currentData()
        self.refresh()

    @property
    def busy(self) -> bool:
        return (self.model.busy or self.thumbnails.busy or self._debounce.isActive()
                or (self.export_task is not None and not self.export_task.done))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        # new cans may have been inspected since: count again, and re-read the choices
        try:
            self.filters.refresh_choices()
        except Exception as exc:  # noqa: BLE001 - shown in the panel
            self._say(error_text(exc, self.ctx.log_path, "reading the filters"), True)
        if self._shown_once:
            self.model.reload_rows()        # coming back: keep the place unless cans were added
        else:
            self._shown_once = True
            self.refresh()

    # -- detail -----------------------------------------------------------------------------------
    def open_detail(self, index: QModelIndex) -> DetailDialog | None:
        row = index.data(ROW_ROLE)
        if row is None:
            return None
        dialog = DetailDialog(self.ctx, row.id, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.corrected.connect(self.model.reload_rows)    # new badge, same scroll position
        dialog.deleted.connect(self.model.reload_rows)
        dialog.open()
        self.detail = dialog
        return dialog

    def delete_shown(self) -> DeleteDialog:
        """Ask to delete the filtered set (counts, a reason, then the deletion in a worker)."""
        dialog = DeleteDialog(self.ctx, describe(self.filters.chosen()),
                              filters=self.filters.filter(), parent=self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.deleted.connect(lambda r: (self._say(
            f"Deleted {r.cans:,} inspection{'s' if r.cans != 1 else ''} and {r.files:,} files."),
            self.refresh()))
        dialog.open()
        return dialog

    # -- export -----------------------------------------------------------------------------------
    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", str(Path.home() / "inspections.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def _ask_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "PDF report", str(Path.home() / "report.pdf"),
                                              "PDF files (*.pdf)")
        if path:
            self.export_pdf(Path(path))

    def export_csv(self, path: Path) -> TaskHandle | None:
        inspections, actor, f = self.ctx.station.inspections, self.ctx.actor, self._filter
        return self._export(lambda _p: inspections.export_csv(actor, f, path),
                            lambda n: f"{n:,} inspections written to {path}", path)

    def export_pdf(self, path: Path) -> TaskHandle | None:
        st, actor, f = self.ctx.station, self.ctx.actor, self._filter
        return self._export(lambda p: build_report(p, st, actor, f, path),
                            lambda r: f"Report with {r.pages} pages written to {path}"
                            + (f" (pages for the newest {r.with_pages} of {r.total:,} cans)"
                               if r.total > r.with_pages else ""), path)

    def _export(self, job, message, path: Path) -> TaskHandle | None:
        if self.export_task is not None and not self.export_task.done:
            return None
        for b in (self.csv_button, self.pdf_button):
            b.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self._say(f"Writing {path.name}…")
        self.export_task = start_task(
            self, job, name="export",
            on_progress=lambda d, t, _m: (self.progress.setRange(0, t), self.progress.setValue(d)),
            on_success=lambda r: (self._say(message(r)), self.exported.emit(path)),
            on_error=lambda e: self._say(error_text(e, self.ctx.log_path, "exporting"), True),
            on_finished=self._export_done)
        return self.export_task

    def _export_done(self) -> None:
        self.progress.hide()
        for b in (self.csv_button, self.pdf_button):
            b.setEnabled(True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(error_style(error))
        self.status.show()

    def shutdown(self) -> None:
        """Cancel an export in progress (the window is closing)."""
        if self.export_task is not None and not self.export_task.done:
            self.export_task.cancel()
            self.export_task.wait()
