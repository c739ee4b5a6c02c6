"""Models (admins): the registered models, building one (progress and cancel), evaluating one on a
folder with charts whose thresholds can be moved and saved, activating one for products behind a
gate, and rolling a product back to its previous model.

What is shown for the selected model is its own: its thresholds before any evaluation, its latest
stored evaluation (``station.models.evaluations``) with per-side and can-level figures, the images
each rests on and its interval (``gui.models.evaluation_view``); another model's charts never stay.
Activation needs a stored evaluation on images the model was not trained on, or an explicit
confirmation (``app.model_gate``); it shows the can-level figures, switches all chosen products in
one transaction in a worker, and keeps each product's previous model for Roll back.

Thresholds decision: moved thresholds are saved in the database (``station.models.set_thresholds``),
never written into the model folder, which stays exactly as trained. The capture panel inspects with
the product's own override if it has one, else these database thresholds, so what is saved here is
what the line uses from the next can on.

Threading rule: GUI thread only. Training, evaluation (and storing it), activation and rollback are
plain functions (``app.model_jobs``, ``app.model_gate``) run with ``gui.workers.start_task``, one job
at a time; this panel never touches torch.
"""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model_gate import evaluate_and_record
from app.model_jobs import BuildRequest, build_and_register
from core.errors import Cancelled
from gui.errors import error_text
from gui.models.activation import ActivationActions
from gui.models.build_dialog import BuildDialog
from gui.models.charts import EvaluationCharts
from gui.models.evaluation_view import EvaluationView, model_thresholds, validation_text
from gui.theme import error_style
from gui.workers import TaskHandle, start_task

COLUMNS = ("Name", "Version", "Kind", "Backbone", "Validation", "Review / reject", "Products",
           "Trained by", "Created")


class ModelsPanel(ActivationActions, QWidget):
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
        self._shown_model_id: int | None = None
        self._evaluations: list = []          # stored evaluations of the selected model, newest first

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(96)  # header and two models stay visible at 1024 x 640
        self.build_button = QPushButton("Build model…", self)
        self.evaluate_button = QPushButton("Evaluate on folder…", self)
        self.backdrop_box = QCheckBox("Backdrop check", self)
        self.backdrop_box.setToolTip(
            "Also repaint everything outside the can of each good image with ten other backdrops "
            "(colours, a texture, photos of walls) and count the verdicts that change: a model "
            "that judges the can changes none. Each good image is judged eleven times (as it is "
            "and on ten backdrops), so the evaluation takes longer.")
        self.activate_button = QPushButton("Activate for products…", self)
        self.rollback_button = QPushButton("Roll back product…", self)
        self.progress = QProgressBar(self)
        self.progress.setFormat("%p%")
        self.job_label = QLabel("", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.message = QLabel("", self)
        self.message.setObjectName("modelsMessage")
        self.message.setWordWrap(True)
        self.charts = EvaluationCharts(self)
        self.view = EvaluationView(self.charts, self)
        self.save_thresholds_button = self.view.save_thresholds_button
        self._layout()

        self.build_button.clicked.connect(self.open_build_dialog)
        self.evaluate_button.clicked.connect(self.choose_evaluation_folder)
        self.activate_button.clicked.connect(self.open_activate_dialog)
        self.rollback_button.clicked.connect(self.open_rollback_dialog)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.save_thresholds_button.clicked.connect(self.save_thresholds)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.charts.thresholds_changed.connect(lambda *_: self._update_buttons())
        self._show_job(False)
        self.refresh()

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        # The backdrop check's box sits under the button it goes with (the row fits 1024 px).
        evaluate = QVBoxLayout()
        evaluate.setSpacing(2)
        evaluate.addWidget(self.evaluate_button)
        evaluate.addWidget(self.backdrop_box)
        buttons.addWidget(self.build_button, 0, Qt.AlignTop)
        buttons.addLayout(evaluate)
        for b in (self.activate_button, self.rollback_button):
            buttons.addWidget(b, 0, Qt.AlignTop)
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
        split = QSplitter(Qt.Vertical, self)
        split.addWidget(top)
        split.addWidget(self.view)
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
            cells = (m.name, m.version, m.kind, m.backbone, validation_text(m),
                     f"{m.thresholds.get('review', 0.5):.2f} / {m.thresholds.get('reject', 0.5):.2f}",
                     ", ".join(names.get(i, str(i)) for i in m.product_ids) or "–",
                     m.trained_by, m.created_at.strftime("%Y-%m-%d %H:%M"))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(str(text)))
        self.table.resizeColumnsToContents()
        if keep is not None:
            self.select_model(keep)
        self._on_selection()

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

    def start_evaluation(self, data_dir: str, backdrop_check: bool | None = None) -> TaskHandle | None:
        """Evaluate the selected model at its thresholds on ``data_dir`` and store the evaluation;
        with the backdrop check (default: as the box says) on the folder's good images too."""
        model = self.selected_model()
        if model is None:
            return None
        check = self.backdrop_box.isChecked() if backdrop_check is None else backdrop_check
        self._evaluated_model_id = model.id
        return self._start(f"Evaluating {model.name}", evaluate_and_record, self._ctx.station,
                           self._ctx.actor, model, data_dir, check, on_success=self._on_evaluated)

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

    def _on_evaluated(self, evaluated) -> None:
        model = next((m for m in self._models if m.id == self._evaluated_model_id), None)
        if model is None:
            return
        blocker = QSignalBlocker(self.table.selectionModel())
        self.select_model(model.id)
        blocker.unblock()
        self._show_selected(reload=True, report=evaluated.report)   # the new one is stored now
        report = evaluated.report
        seen = report.n_overlap_training
        seen_text = ("The model does not record its training images, so whether these are new to it "
                     "cannot be told." if seen is None else
                     f"{seen} of them were used in its training." if seen else
                     "None of them was used in its training.")
        check = evaluated.backdrops
        check_text = ("" if check is None else
                      f" Backdrop check: {check.changed} of {check.repaints} verdicts changed when "
                      f"the backdrop was repainted (score shift mean {check.mean_score_shift:.3f}, "
                      f"largest {check.max_score_shift:.3f})." if check.repaints else
                      " Backdrop check: no can was found on any good image.")
        self._say(f"Evaluated on {len(report.labels)} images and stored. {seen_text}{check_text} "
                  "Move the thresholds (drag the lines, use the boxes or a can-level target), then "
                  "Save thresholds.")
        self._update_buttons()

    # ---- the selected model ---------------------------------------------------------------------
    def _on_selection(self) -> None:
        self._show_selected()

    def _show_selected(self, reload: bool = False, report=None) -> None:
        """Show the selected model with its stored evaluations (read when it changed or ``reload``);
        ``report`` is the fresh ``EvalReport`` of the newest one, if there is one."""
        model = self.selected_model()
        if model is None:
            self._shown_model_id, self._evaluations = None, []
            self.view.clear()
        elif reload or model.id != self._shown_model_id:
            self._shown_model_id = model.id
            try:
                self._evaluations = list(self._ctx.station.models.evaluations(self._ctx.actor, model.id))
            except Exception as exc:  # noqa: BLE001 - shown; the panel stays
                self._evaluations = []
                self._say(error_text(exc, self._ctx.log_path, "reading the model's evaluations"),
                          error=True)
            self.view.show_model(model, self._evaluations[0] if self._evaluations else None, report)
        self._update_buttons()

    # ---- thresholds and activation --------------------------------------------------------------
    def save_thresholds(self) -> None:
        model = self.selected_model()
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
        folder = QFileDialog.getExistingDirectory(self, "Folder with good/ and defect/ (images the "
                                                  "model was not trained on)",
                                                  start if Path(start).is_dir() else "")
        if folder:
            self.start_evaluation(folder)

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
        self.backdrop_box.setEnabled(idle)
        self.activate_button.setEnabled(idle and model is not None and bool(self._products))
        self.rollback_button.setEnabled(idle and bool(self.rollback_choices()))
        # The boxes show 3 decimals: a model's 0.4127 reads 0.413 there and is not a change.
        shown = model_thresholds(model) if model is not None else None
        changed = shown is not None and self.charts.thresholds().to_dict() != {
            k: round(v, 3) for k, v in shown.to_dict().items()}
        self.save_thresholds_button.setEnabled(idle and changed)
