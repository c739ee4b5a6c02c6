"""One inspected can: the seven sides with photo, heatmap overlay and boxes; per side the score,
label and outcome; machine versus corrected verdicts; corrections (for supervisors).

The record and its images are read, and the heatmaps coloured, in a worker
(``load_for_display``); pixmaps are made here, on the GUI thread, by ``ImageView`` (GUI-2's
photo + heatmap + boxes widget).

Threading: GUI thread only.
"""
from __future__ import annotations

from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QIcon, QImage, QPixmap
from PyQt5.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.inspection_detail import Detail, SideView, load_detail
from app.scores import OUTCOME_WORDS, score_100, thresholds_text, where
from gui.context import AppContext
from gui.errors import error_text
from gui.forms import fitted
from gui.gallery.correction_box import CorrectionBox
from gui.theme import REJECT_COLOUR, TEXT_COLOUR, VERDICT_TEXT, VERDICT_TEXT_COLOURS, error_style, verdict_badge_css
from gui.widgets.image_view import ImageView, OverlayControls, prepare_result
from gui.widgets.score_bar import ScoreBar
from gui.workers import TaskHandle, start_task

ICON = QSize(120, 90)


def load_for_display(progress, station, actor, inspection_id: int):
    """Worker side: the record and images (``load_detail``), then each side made display-ready
    (heatmap coloured, photo shrunk, a strip icon, what marks it) so the GUI thread only paints;
    and the thresholds in force now for the can's product and model."""
    detail = load_detail(progress, station, actor, inspection_id)
    prepared, icons, wheres = [], [], []
    for side in detail.sides:
        progress.check()
        info = side.info
        wheres.append(where(info.outcome, side.boxes, side.heatmap, getattr(info, "region", None),
                            getattr(info, "reason", "") or ""))
        if side.image is None:
            prepared.append(None)
            icons.append(None)
            continue
        ready = prepare_result(side.image, side.heatmap, wheres[-1].boxes,
                               outline=wheres[-1].outline)
        prepared.append(ready)
        icons.append(ready.photo.scaled(ICON, Qt.KeepAspectRatio, Qt.SmoothTransformation))
    return detail, prepared, icons, wheres, thresholds_now(station, actor, detail.inspection)


def thresholds_now(station, actor, i) -> tuple[float, float] | None:
    """(review, reject) of the product's override, else of its model as registered; None when the
    model is no longer registered (scores are then shown without thresholds)."""
    product = station.products.get(actor, i.product_id)
    chosen = product.thresholds
    if not chosen:
        model = next((m for m in station.models.list(actor)
                      if m.name == i.model_name and m.version == i.model_version), None)
        chosen = model.thresholds if model is not None else None
    return (float(chosen["review"]), float(chosen["reject"])) if chosen else None


class DetailDialog(QDialog):
    """Emits ``corrected()`` after a correction, so the gallery can refresh its badges."""

    corrected = pyqtSignal()
    deleted = pyqtSignal()

    def __init__(self, ctx: AppContext, inspection_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.inspection_id = inspection_id
        self.detail: Detail | None = None
        self._prepared: list = []
        self._wheres: list = []
        self._thresholds: tuple[float, float] | None = None
        self._task: TaskHandle | None = None
        self.setObjectName("detailDialog")
        self.setWindowTitle(f"Inspection {inspection_id}")
        self.resize(fitted(self, QSize(1280, 720)))

        col = QVBoxLayout(self)
        col.setContentsMargins(16, 12, 16, 12)
        head = QHBoxLayout()
        self.title = QLabel(f"Inspection {inspection_id}", objectName="panelTitle")
        self.verdict = QLabel(objectName="verdictBadge")
        self.machine = QLabel(objectName="machineVerdict")
        head.addWidget(self.title)
        head.addSpacing(12)
        head.addWidget(self.verdict)
        head.addWidget(self.machine)
        head.addStretch(1)
        col.addLayout(head)
        self.meta = QLabel("Loading…", objectName="hint")
        col.addWidget(self.meta)

        body = QHBoxLayout()
        left = QVBoxLayout()
        self.view = ImageView(self, placeholder="Loading…")
        self.overlay = OverlayControls(self, views=[self.view])
        left.addWidget(self.view, 1)
        left.addWidget(self.overlay)
        self.strip = QListWidget(objectName="sideStrip")
        self.strip.setViewMode(QListWidget.IconMode)
        self.strip.setFlow(QListWidget.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(ICON)
        self.strip.setFixedHeight(ICON.height() + 62)
        self.strip.setMovement(QListWidget.Static)
        self.strip.currentRowChanged.connect(self.show_side)
        left.addWidget(self.strip)
        body.addLayout(left, 3)

        right = QVBoxLayout()
        self.side_info = QLabel(objectName="sideInfo")
        self.side_info.setWordWrap(True)
        self.side_info.setTextFormat(Qt.RichText)
        right.addWidget(self.side_info)
        self.score_bar = ScoreBar(self, labels=True)
        right.addWidget(self.score_bar)
        self.corrections = CorrectionBox(ctx, self)
        self.corrections.setVisible(ctx.can("correction.create"))
        self.corrections.corrected.connect(self._on_corrected)
        right.addWidget(self.corrections)
        self.history = QLabel(objectName="history")
        self.history.setWordWrap(True)
        self.history.setAlignment(Qt.AlignTop)
        right.addWidget(self.history, 1)
        close = QPushButton("Close", objectName="closeButton")
        close.clicked.connect(self.close)
        self.delete_button = QPushButton("Delete this can…", objectName="deleteCan")
        self.delete_button.setVisible(ctx.can("inspection.delete"))
        self.delete_button.clicked.connect(self.ask_delete)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        right.addLayout(buttons)
        side_panel = QWidget()
        side_panel.setLayout(right)
        side_panel.setFixedWidth(400)
        body.addWidget(side_panel)
        col.addLayout(body, 1)
        self.reload()

    # -- loading ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return (self._task is not None and not self._task.done) or self.corrections.busy

    def reload(self, side_row: int | None = None) -> None:
        keep = self.strip.currentRow() if side_row is None else side_row
        self._task = start_task(self, load_for_display, self.ctx.station, self.ctx.actor,
                                self.inspection_id, name="inspection detail",
                                on_success=lambda r: self._loaded(*r, keep_row=keep),
                                on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.meta.setText(error_text(exc, self.ctx.log_path, "opening an inspection"))
        self.meta.setStyleSheet(error_style())

    def _loaded(self, detail: Detail, prepared: list, icons: list, wheres: list,
                thresholds: tuple[float, float] | None, *, keep_row: int) -> None:
        self.detail = d = detail
        self._prepared = prepared
        self._wheres = wheres
        self._thresholds = thresholds
        i = d.inspection
        self.title.setText(f"Inspection {i.id} — {i.product_sku} {i.product_name}")
        self.verdict.setText(VERDICT_TEXT.get(i.verdict, i.verdict))
        self.verdict.setStyleSheet(verdict_badge_css(i.verdict))
        self.machine.setText(f"machine: {i.machine_verdict}, corrected to {i.corrected_verdict}"
                             if i.corrected_verdict else "machine verdict")
        self.meta.setText(f"{i.started.astimezone():%Y-%m-%d %H:%M:%S} · operator "
                          f"{i.operator_name} · station {i.station_name} · warehouse "
                          f"{i.warehouse_name} · model {i.model_name} {i.model_version}")
        self.strip.blockSignals(True)
        self.strip.clear()
        for side, icon in zip(d.sides, icons):
            self.strip.addItem(self._side_item(side, icon))
        self.strip.blockSignals(False)
        row = keep_row if 0 <= keep_row < len(d.sides) else 0
        self.strip.setCurrentRow(row)
        self.show_side(row)
        self.history.setText(self._history_text())

    @staticmethod
    def _side_item(side: SideView, icon: QImage | None) -> QListWidgetItem:
        info = side.info
        # the machine's outcome in the same words as the capture panel; ✎ when corrected since
        label = f"{VERDICT_TEXT.get(info.outcome, info.outcome)} · {score_100(info.score)}" + (
            f" ✎ {info.corrected_label}" if info.corrected_label else "")
        item = QListWidgetItem(f"{info.side_name}\n{label}")
        if icon is not None:
            item.setIcon(QIcon(QPixmap.fromImage(icon)))     # the pixmap: GUI thread only
        item.setForeground(QColor(VERDICT_TEXT_COLOURS.get(info.outcome, TEXT_COLOUR)))
        item.setToolTip(side.problem or f"{info.side_name}: {info.outcome}")
        return item

    # -- showing a side -----------------------------------------------------------------------
    def show_side(self, row: int) -> None:
        if self.detail is None or not 0 <= row < len(self.detail.sides):
            return
        side = self.detail.sides[row]
        info = side.info
        marks = self._wheres[row]
        if self._prepared[row] is not None:
            self.view.set_prepared(self._prepared[row], marks.outline)
        else:
            self.view.clear()
            self.view.placeholder = f"The photo cannot be shown.\n{side.problem}"
        corrected = (f"<br>Corrected label: <b>{info.corrected_label}</b>"
                     if info.corrected_label else "")
        colour = VERDICT_TEXT_COLOURS.get(info.outcome, TEXT_COLOUR)
        t = self._thresholds
        if t is not None:
            self.score_bar.set_values(info.score, *t)
            scale = f" ({thresholds_text(*t)}, as set now)"
        else:
            self.score_bar.set_values(info.score)
            scale = " (the model is no longer registered: its thresholds are unknown)"
        self.side_info.setText(
            f"<h3>{info.side_name}</h3>"
            f"<b style='color:{colour}'>{OUTCOME_WORDS.get(info.outcome, info.outcome)}</b><br>"
            f"Score: <b>{score_100(info.score)}</b> of 100{scale}<br>"
            f"Machine label: <b>{info.label}</b>{corrected}"
            + (f"<br>Where: {marks.describe()}" if marks.describe() else "")
            + (f"<br><span style='color:{REJECT_COLOUR}'>{side.problem}</span>"
               if side.problem else ""))
        i = self.detail.inspection
        self.corrections.set_target(i.id, info.id, info.final_label, i.verdict, side.image, info.side_name)

    def _history_text(self) -> str:
        if self.detail is None or not self.detail.corrections:
            return "No corrections."
        names = {s.info.id: s.info.side_name for s in self.detail.sides}
        lines = ["<b>Corrections</b>"]
        for c in self.detail.corrections:
            what = f"side {names.get(c.side_result_id, c.side_result_id)}" \
                if c.side_result_id is not None else "can"
            note = f" — “{c.note}”" if c.note else ""
            lines.append(f"{c.created_at.astimezone():%Y-%m-%d %H:%M} {c.username}: {what} → "
                         f"<b>{c.value}</b>{note}")
        return "<br>".join(lines)

    def _on_corrected(self, _correction: object) -> None:
        self.corrected.emit()
        self.reload()

    def ask_delete(self) -> QDialog:
        from gui.gallery.delete_dialog import DeleteDialog
        dialog = DeleteDialog(self.ctx, f"Inspection {self.inspection_id} only.",
                              ids=[self.inspection_id], parent=self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.deleted.connect(lambda _r: (self.deleted.emit(), self.close()))
        dialog.open()
        return dialog

    def done(self, result: int) -> None:  # Qt's name; wait for our short reads
        if self._task is not None:
            self._task.cancel()
            self._task.wait()
        self.corrections.wait()
        super().done(result)
