"""The "Build model" dialog: name, where the labelled images come from (a folder with good/ and
defect/, or the gallery with its corrections), detector, backbone and the detector's options. It
only gathers the choices into a ``BuildRequest``; the panel runs the job.

Threading rule: GUI thread only. It imports no torch: the detectors, the backbones each accepts
and their options come from the catalogue (``core.detectors.catalogue``); kinds whose modules are
not installed are left out (found without importing them).
"""
from __future__ import annotations

from PyQt5.QtCore import QSize, Qt
from PyQt5.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QWidget,
)

from app.model_jobs import BuildRequest
from core.detectors import catalogue
from gui.forms import fitted
from gui.widgets.option_form import OptionForm


class BuildDialog(QDialog):
    def __init__(self, products: list, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Build a model")
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. beans-400")
        self.from_folder = QRadioButton("Folder (good/ and defect/ inside)", self)
        self.from_gallery = QRadioButton("Gallery (corrected verdicts count as labels)", self)
        # commissioning a product: its own good cans from the gallery added to a data set
        self.from_both = QRadioButton("Both: the folder and the gallery's sides of the product", self)
        self.from_folder.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_folder)
        group.addButton(self.from_gallery)
        group.addButton(self.from_both)
        self.folder = QLineEdit(self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.product = QComboBox(self)
        self.product.addItem("All products", None)
        for p in products:
            self.product.addItem(f"{p.name} ({p.sku})", p.id)
        self.detector = QComboBox(self)
        for entry in catalogue.available():
            self.detector.addItem(entry.label, entry.kind)
        self.backbone = QComboBox(self)
        self.options = OptionForm(self)
        self.input_size = QSpinBox(self)
        self.input_size.setRange(0, 1024)  # 0 = the detector's own default (shown as text)
        self.input_size.setSpecialValueText("detector default")
        self.input_size.setSingleStep(32)
        self.input_size.setValue(self.input_size.minimum())
        # 0 = the usual calibration; else the reject threshold aims at this share of good cans
        # rejected (core.scoring.can_target), and the model records what its validation can show.
        self.can_target = QDoubleSpinBox(self)
        self.can_target.setRange(0.0, 50.0)
        self.can_target.setDecimals(2)
        self.can_target.setSingleStep(0.5)
        self.can_target.setSuffix(" %")
        self.can_target.setSpecialValueText("usual calibration")
        self.can_target.setValue(0.0)
        self.error = QLabel("", self)
        self.error.setObjectName("errorLabel")  # styled by the theme
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.button(QDialogButtonBox.Ok).setText("Build")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Images from", self.from_folder)
        form.addRow("", folder_row)
        form.addRow("", self.from_gallery)
        form.addRow("", self.from_both)
        form.addRow("Gallery product", self.product)
        form.addRow("Detector", self.detector)
        form.addRow("Backbone", self.backbone)
        form.addRow("Input size (px)", self.input_size)
        # The detector's options scroll when the screen is too low for all of them (CAM has 17).
        self.option_area = QScrollArea(self)
        self.option_area.setWidget(self.options)
        self.option_area.setWidgetResizable(True)
        self.option_area.setFrameShape(QFrame.NoFrame)
        self.option_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        form.addRow(self.option_area)
        form.addRow("Good cans rejected at most", self.can_target)
        form.addRow(self.error)
        form.addRow(buttons)
        self._labels = [w for w in (form.labelForField(f) for f in (
            self.name, self.from_folder, self.product, self.detector, self.backbone, self.input_size,
            self.can_target)) if w is not None]
        self.from_folder.toggled.connect(self._sync)
        self.from_both.toggled.connect(self._sync)
        self.detector.currentIndexChanged.connect(self._detector_changed)
        self._detector_changed()
        # as tall as every option needs, or the room there is (then the options scroll)
        hint = self.sizeHint()
        extra = max(0, self.options.sizeHint().height() - self.option_area.sizeHint().height())
        self.resize(fitted(self, QSize(max(760, hint.width()), hint.height() + extra)))

    def _detector_changed(self) -> None:
        entry = catalogue.get(self.detector.currentData() or catalogue.DEFAULT_KIND)
        self.backbone.clear()
        self.backbone.addItems(entry.backbones)
        self.input_size.setSpecialValueText(f"detector default ({entry.input_size})")
        self.options.set_options(entry.options)
        self._align_labels()
        self._sync()

    def _align_labels(self) -> None:
        """The detector's options in one column with the dialog's own fields (the options form is
        a form of its own inside this one, whose labels would otherwise be narrower)."""
        labels = self._labels + self.options.labels()
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)

    def _sync(self) -> None:
        self.folder.setEnabled(self.source() != "gallery")
        self.product.setEnabled(self.source() != "folder")

    def source(self) -> str:
        """"folder", "gallery" or "both" (``app.model_jobs.SOURCES``)."""
        return ("folder" if self.from_folder.isChecked() else
                "both" if self.from_both.isChecked() else "gallery")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with good/ and defect/")
        if folder:
            self.folder.setText(folder)

    def request(self) -> BuildRequest:
        return BuildRequest(
            name=self.name.text().strip(),
            source=self.source(),
            folder=self.folder.text().strip(),
            product_id=self.product.currentData(),
            detector=self.detector.currentData() or catalogue.DEFAULT_KIND,
            backbone=self.backbone.currentText(),
            input_size=(None if self.input_size.value() == self.input_size.minimum()
                        else self.input_size.value()),
            options=self.options.values(),
            can_false_reject=(self.can_target.value() / 100.0 if self.can_target.value() > 0 else None))

    def validation_error(self) -> str:
        try:
            r = self.request()
        except catalogue.OptionInvalid as exc:
            return str(exc)
        if not r.name:
            return "Give the model a name."
        if r.source != "gallery" and not r.folder:
            return "Choose the folder with good/ and defect/."
        return ""

    def _accept(self) -> None:
        problem = self.validation_error()
        self.error.setText(problem)
        if not problem:
            self.accept()
