"""Deleting inspections (admins): one can from its detail, or the gallery's filtered set.

The dialog first counts what would go (``inspections.deletion_preview``, in a worker): so many
cans and so many files that no other can uses. The person types a reason, which each can's audit
event keeps, and confirms; exactly the counted cans are deleted (``delete_many`` with the
preview's ids, so a can recorded meanwhile that matches the filter is not taken along), in a
worker with a progress bar.

Threading: GUI thread only; counting and deleting run in ``gui.workers`` tasks.
"""
from __future__ import annotations

from collections.abc import Sequence

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.dto import DeletionPreview, DeletionResult
from db.records import GalleryFilter
from gui.context import AppContext
from gui.errors import error_text
from gui.forms import keep_default
from gui.workers import TaskHandle, start_task


class DeleteDialog(QDialog):
    """Emits ``deleted(DeletionResult)`` and accepts when the cans are gone."""

    deleted = pyqtSignal(object)

    def __init__(self, ctx: AppContext, what: str, *, filters: GalleryFilter | None = None,
                 ids: Sequence[int] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview: DeletionPreview | None = None
        self.result_: DeletionResult | None = None
        self._task: TaskHandle | None = None
        self.setObjectName("deleteDialog")
        self.setWindowTitle("Delete inspections")
        col = QVBoxLayout(self)
        col.setSizeConstraint(QLayout.SetFixedSize)
        col.setContentsMargins(24, 20, 24, 16)
        col.addWidget(QLabel("Delete inspections", objectName="panelTitle"))
        scope = QLabel(what, objectName="hint")
        scope.setWordWrap(True)
        col.addWidget(scope)
        self.counts = QLabel("Counting the cans and files…", objectName="deleteCounts")
        self.counts.setWordWrap(True)
        self.counts.setMinimumWidth(480)
        col.addWidget(self.counts)
        col.addWidget(QLabel("Reason (kept in the audit log):"))
        self.reason = QLineEdit(objectName="deleteReason")
        self.reason.setPlaceholderText("e.g. test cans of the line trial on Monday")
        self.reason.setMaxLength(500)
        self.reason.textChanged.connect(self._update)
        col.addWidget(self.reason)
        self.progress = QProgressBar(objectName="deleteProgress")
        self.progress.hide()
        col.addWidget(self.progress)
        self.error = QLabel(objectName="errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()
        col.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.delete_button = QPushButton("Delete", objectName="deleteButton")
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton")
        keep_default(self.delete_button, self.cancel_button)
        buttons.addButton(self.delete_button, QDialogButtonBox.DestructiveRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.RejectRole)
        self.delete_button.clicked.connect(self.confirm)
        self.cancel_button.clicked.connect(self.reject)
        col.addWidget(buttons)
        self.reason.setFocus()
        st, actor = ctx.station, ctx.actor
        self._task = start_task(self, lambda _p: st.inspections.deletion_preview(
            actor, filters, ids), name="deletion preview",
            on_success=self._counted, on_error=self._failed, on_finished=self._update)
        self._update()

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done

    def _counted(self, preview: DeletionPreview) -> None:
        self.preview = p = preview
        if p.cans == 0:
            self.counts.setText("No inspection matches: nothing to delete.")
            return
        cans = f"{p.cans:,} inspection{'s' if p.cans != 1 else ''} (cans)"
        self.counts.setText(f"This deletes <b>{cans}</b> and <b>{p.files:,} files</b> (photos, "
                            "heatmaps, thumbnails that no other can uses) from the data folder, "
                            "with their corrections. It cannot be undone.")

    def _update(self, *_args: object) -> None:
        ready = (self.preview is not None and self.preview.cans > 0 and not self.busy
                 and bool(self.reason.text().strip()))
        self.delete_button.setEnabled(ready)

    def confirm(self) -> None:
        if self.busy or self.preview is None or not self.preview.cans:
            return
        reason = self.reason.text().strip()
        if not reason:
            self._show_error("Say why these inspections are deleted.")
            return
        st, actor, ids = self.ctx.station, self.ctx.actor, self.preview.ids
        self.error.hide()
        self.reason.setEnabled(False)
        self.progress.setRange(0, len(ids))
        self.progress.setValue(0)
        self.progress.show()
        def step(progress, done: int, total: int) -> None:
            progress.report(done, total, "")
            progress.check()            # Cancel stops at the next batch; those done stay done

        self._task = start_task(
            self, lambda p: st.inspections.delete_many(
                actor, ids, reason, progress=lambda d, t: step(p, d, t)),
            name="delete inspections", on_progress=lambda d, t, _m: self.progress.setValue(d),
            on_success=self._deleted, on_error=self._failed, on_finished=self._update)
        self._update()

    def _deleted(self, result: DeletionResult) -> None:
        self.result_ = result
        self.deleted.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.reason.setEnabled(True)
        self.progress.hide()
        self._show_error(error_text(exc, self.ctx.log_path, "deleting inspections"))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def done(self, result: int) -> None:
        if self._task is not None and not self._task.done:
            self._task.cancel()   # counting is one read; deleting stops at a batch boundary
            self._task.wait()
        super().done(result)


def describe(what: Sequence[tuple[str, str]]) -> str:
    """"Product BEANS-400, verdict reject" from (caption, chosen text) pairs, or everything."""
    parts = [f"{caption} {value}" for caption, value in what if value]
    return ("The inspections shown in the gallery: " + ", ".join(parts) + "."
            if parts else "Every inspection in the gallery (no filter is set).")
