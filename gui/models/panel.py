"""Models (admins): the registered models, building one (progress and cancel), evaluating one on a
folder with charts whose thresholds can be moved and saved, activating one for products.

Thresholds decision: moved thresholds are saved in the database (``station.models.set_thresholds``),
never written into the model folder, which stays exactly as trained. The capture panel inspects with
the product's own override if it has one, else these database thresholds, so what is saved here is
what the line uses from the next can on.

Threading rule: GUI thread only. Training and evaluation are plain functions (``app.model_jobs``)
run with ``gui.workers.start_task``, one job at a time; this panel never touches torch.
"""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QLabel,
                             QProgressBar, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                             QVBoxLayout, QWidget)

from core.scoring.calibration import Thresholds
from core.errors import Cancelled
from gui.errors import error_text
from gui.models.activate_dialog import ActivateDialog
from gui.models.build_dialog import BuildDialog
from gui.models.charts import EvaluationCharts
from app.model_jobs import BuildRequest, build_and_register, evaluate_folder
from gui.theme import error_style
from gui.workers import TaskHandle, start_task

COLUMNS = ("Name", "Version", "Kind", "Backbone", "Val. AUROC", "Review / reject", "Products",
           "Trained by", "Created")


class ModelsPanel(QWidget):
    """``models_changed`` tells other panels that the registered or active models changed."""

    models_changed = pyqtSignal()

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPanel")
        self._ctx = ctx
        self._models: list = []
        self._products: list = []
        self.job: TaskHandle | None = None
        self._evaluated_model_id: int | None = None

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.build_button = QPushButton("Build model…", self)
        self.evaluate_button = QPushButton("Evaluate on folder…", self)
        self.activate_button = QPushButton("Activate for products…", self)
        self.progress = QProgressBar(self)
        self.progress.setFormat("%p%")
        self.job_label = QLabel("", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.message = QLabel("", self)
        self.message.setObjectName("modelsMessage")
        self.message.setWordWrap(True)
        self.charts = EvaluationCharts(self)
        self.save_thresholds_button = QPushButton("Save thresholds", self)
        self._layout()

        self.build_button.clicked.connect(self.open_build_dialog)
        self.evaluate_button.clicked.connect(self.choose_evaluation_folder)
        self.activate_button.clicked.connect(self.open_activate_dialog)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.save_thresholds_button.clicked.connect(self.save_thresholds)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.charts.thresholds_changed.connect(lambda *_: self._update_buttons())
        self._show_job(False)
        self.refresh()

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        for b in (self.build_button, self.evaluate_button, self.activate_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        job = QHBoxLayout()
        job.addWidget(self.job_label)
        job.addWidget(self.progress, 1)
        job.addWidget(self.cancel_button)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(job)
        top_layout.addWidget(self.message)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.charts, 1)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_thresholds_button)
        bottom_layout.addLayout(save_row)
        split = QSplitter(Qt.Vertical, self)
        split.addWidget(top)
        split.addWidget(bottom)
        # The evaluation charts need the height more than the short list of models does.
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(split)

    # ---- listing ------------------------------------------------------------------------------
    def refresh(self, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else getattr(self.selected_model(), "id", None)
        try:
            self._models = list(self._ctx.station.models.list(self._ctx.actor))
            self._products = list(self._ctx.station.products.list(self._ctx.actor))
        except Exception as exc:  # noqa: BLE001 - shown; the panel stays
            self._say(error_text(exc, self._ctx.log_path, "listing models"), error=True)
            return
        names = {p.id: p.sku for p in self._products}
        self.table.setRowCount(len(self._models))
        for row, m in enumerate(self._models):
            auroc = m.metrics.get("val_auroc")
            cells = (m.name, m.version, m.kind, m.backbone,
                     "–" if auroc is None else f"{auroc:.3f}",
                     f"{m.thresholds.get('review', 0.5):.2f} / {m.thresholds.get('reject', 0.5):.2f}",
                     ", ".join(names.get(i, str(i)) for i in m.product_ids) or "–",
                     m.trained_by, m.created_at.strftime("%Y-%m-%d %H:%M"))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(str(text)))
        self.table.resizeColumnsToContents()
        if keep is not None:
            self.select_model(keep)
        self._update_buttons()

    def selected_model(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self._models[rows[0].row()] if rows and rows[0].row() < len(self._models) else None

    def select_model(self, model_id: int) -> None:
        for row, m in enumerate(self._models):
            if m.id == model_id:
                self.table.selectRow(row)

    # ---- jobs ---------------------------------------------------------------------------------
    def _start(self, what: str, fn, *args, on_success) -> TaskHandle | None:
        if self.job is not None:
            return None
        self._show_job(True, what)
        self.job = start_task(self, fn, *args, on_success=on_success,
                              on_error=lambda exc: self._on_job_error(what, exc),
                              on_progress=self._on_progress, on_finished=self._on_job_finished,
                              name=what)
        self._update_buttons()
        return self.job

    def start_build(self, request: BuildRequest) -> TaskHandle | None:
        self._say("")
        return self._start(f"Building {request.name}", build_and_register, self._ctx.station,
                           self._ctx.actor, str(self._ctx.settings.models_dir), request,
                           on_success=self._on_built)

    def start_evaluation(self, data_dir: str) -> TaskHandle | None:
        model = self.selected_model()
        if model is None:
            return None
        self._evaluated_model_id = model.id
        thresholds = Thresholds.from_dict(model.thresholds) if model.thresholds else None
        return self._start(f"Evaluating {model.name}", evaluate_folder, model.folder, data_dir,
                           thresholds, on_success=self._on_evaluated)

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job_label.setText("Cancelling…")
            self.job.cancel()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        if message:
            self.job_label.setText(message)

    def _on_job_error(self, what: str, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self._say(f"{what} cancelled; nothing was saved.")
        else:
            self._say(error_text(exc, self._ctx.log_path, what.lower()), error=True)

    def _on_job_finished(self) -> None:
        self.job = None
        self._show_job(False)
        self._update_buttons()

    def _on_built(self, info) -> None:
        self.refresh(select_id=info.id)
        self._say(f"Model {info.name} {info.version} is built and registered. Evaluate it on a "
                  "folder, then activate it for products.")
        self.models_changed.emit()

    def _on_evaluated(self, report) -> None:
        model = next((m for m in self._models if m.id == self._evaluated_model_id), None)
        if model is None:
            return
        self.select_model(model.id)
        self.charts.set_data(report.labels, report.scores,
                             Thresholds(report.review_threshold, report.reject_threshold),
                             f"{model.name} {model.version} on {report.data} "
                             f"({report.n_good} good, {report.n_defect} defective)")
        self._say(f"Evaluated on {len(report.labels)} images. Move the thresholds (drag the lines "
                  "or use the boxes), then Save thresholds.")
        self._update_buttons()

    # ---- thresholds and activation --------------------------------------------------------------
    def save_thresholds(self) -> None:
        model = next((m for m in self._models if m.id == self._evaluated_model_id), None)
        if model is None:
            return
        t = self.charts.thresholds()
        try:
            info = self._ctx.station.models.set_thresholds(self._ctx.actor, model.id, t.to_dict())
        except Exception as exc:  # noqa: BLE001
            self._say(error_text(exc, self._ctx.log_path, "saving thresholds"), error=True)
            return
        self.refresh(select_id=info.id)
        self._say(f"Thresholds of {info.name} {info.version} saved: review from {t.review:.2f}, "
                  f"reject from {t.reject:.2f}. Products with their own thresholds keep them.")
        self.models_changed.emit()

    def activate(self, product_ids: list[int]) -> None:
        model = self.selected_model()
        if model is None or not product_ids:
            return
        try:
            for pid in product_ids:
                self._ctx.station.models.activate_for_product(self._ctx.actor, model.id, pid)
        except Exception as exc:  # noqa: BLE001
            self._say(error_text(exc, self._ctx.log_path, "activating a model"), error=True)
        else:
            self._say(f"{model.name} {model.version} is active for {len(product_ids)} more product(s).")
        self.refresh(select_id=model.id)
        self.models_changed.emit()

    # ---- dialogs (thin: the methods above do the work, and the tests call those) ------------------
    def open_build_dialog(self) -> None:
        dialog = BuildDialog(self._products, self)
        if dialog.exec_() == QDialog.Accepted:
            self.start_build(dialog.request())

    def choose_evaluation_folder(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        start = model.trained_on.get("source", "")
        folder = QFileDialog.getExistingDirectory(self, "Folder with good/ and defect/",
                                                  start if Path(start).is_dir() else "")
        if folder:
            self.start_evaluation(folder)

    def open_activate_dialog(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        dialog = ActivateDialog(model, self._products, self)
        if dialog.exec_() == QDialog.Accepted:
            self.activate(dialog.chosen())

    # ---- state --------------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_style(error))

    def _show_job(self, running: bool, what: str = "") -> None:
        for w in (self.progress, self.job_label, self.cancel_button):
            w.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first report
            self.job_label.setText(what + "…")

    def _update_buttons(self) -> None:
        idle, model = self.job is None, self.selected_model()
        self.build_button.setEnabled(idle)
        self.evaluate_button.setEnabled(idle and model is not None)
        self.activate_button.setEnabled(model is not None and bool(self._products))
        evaluated = next((m for m in self._models if m.id == self._evaluated_model_id), None)
        changed = (evaluated is not None and self.charts.labels.size > 0
                   and self.charts.thresholds().to_dict() != Thresholds.from_dict(
                       evaluated.thresholds).to_dict())
        self.save_thresholds_button.setEnabled(bool(changed))
