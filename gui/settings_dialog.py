"""Settings (admins): the camera (device list, resolution, a live test), the station's name, the
CPU threads of the network, and where the data folder and the database are.

Saved into ``settings.json`` in the data folder through the typed settings (``Settings.save``).
When each change applies is said beside it: the station name with the next can, the camera at
the next Start camera, the CPU threads at the next start of the program; the data folder and the
database are chosen when the program starts (``--data-dir`` / ``STATION_DATA_DIR``, ``--db-url``
/ ``STATION_DB_URL``), so they are shown here, not changed.

Threading: GUI thread only; the live test grabs frames in ``CameraFeed``'s thread; the file is
written in a worker.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.camera import CameraFeed, FrameSource, OpenCVSource, list_cameras
from gui.context import AppContext, database_text
from gui.errors import error_text
from gui.forms import FieldErrors, keep_default
from gui.widgets.image_view import ImageView
from gui.workers import TaskHandle, start_task

RESOLUTIONS = ((640, 480), (1280, 720), (1600, 1200), (1920, 1080), (2592, 1944))


class SettingsDialog(QDialog):
    """Emits ``saved()`` after ``settings.json`` was written (the settings object is updated)."""

    saved = pyqtSignal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 source_factory: Callable[[str, int, int], FrameSource] = OpenCVSource) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._source_factory = source_factory
        self._task: TaskHandle | None = None
        self.feed: CameraFeed | None = None
        self.test_frames = 0
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        s = ctx.settings
        col = QVBoxLayout(self)
        col.setSizeConstraint(QLayout.SetFixedSize)   # follows its contents (a message grows it)
        col.setContentsMargins(20, 16, 20, 14)
        col.addWidget(QLabel("Settings", objectName="panelTitle"))
        self.errors = FieldErrors(QLabel(), ctx.log_path)

        station = QGroupBox("Station")
        form = QFormLayout(station)
        self.station_name = QLineEdit(s.station_name, objectName="stationName")
        self.errors.add_row(form, "Name", "station_name", self.station_name)
        form.addRow("", _note("Recorded with every inspection; applies from the next can."))
        self.threads = QSpinBox(objectName="threads")
        self.threads.setRange(0, max(1, os.cpu_count() or 1))
        self.threads.setSpecialValueText("automatic")
        self.threads.setValue(int(s.torch_threads))
        self.errors.add_row(form, "CPU threads", "torch_threads", self.threads)
        form.addRow("", _note(f"For the inspection network ({os.cpu_count()} on this computer); "
                              "applies at the next start of the program."))
        left = QVBoxLayout()
        left.addWidget(station)

        camera = QGroupBox("Camera")
        cam = QVBoxLayout(camera)
        form = QFormLayout()
        self.device = QComboBox(objectName="cameraDevice")
        self.device.setEditable(True)        # a path or URL of one not listed
        self.device.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.device.setMinimumContentsLength(18)     # a long path must not widen the dialog
        for device, label in list_cameras():
            self.device.addItem(label, device)
        found = self.device.findData(s.camera_device)
        if found < 0:
            self.device.insertItem(0, s.camera_device, s.camera_device)
            found = 0
        self.device.setCurrentIndex(found)
        self.errors.add_row(form, "Device", "camera_device", self.device)
        size_row = QHBoxLayout()
        self.resolution = QComboBox(objectName="resolution")
        for w, h in RESOLUTIONS:
            self.resolution.addItem(f"{w} × {h}", f"{w}x{h}")
        current = f"{s.camera_width}x{s.camera_height}"
        if self.resolution.findData(current) < 0:
            self.resolution.addItem(f"{s.camera_width} × {s.camera_height}", current)
        self.resolution.setCurrentIndex(self.resolution.findData(current))
        size_row.addWidget(self.resolution)
        self.test_button = QPushButton("Test the camera", objectName="testCamera")
        self.test_button.clicked.connect(self.test_camera)
        size_row.addWidget(self.test_button)
        size_row.addStretch(1)
        self.errors.add_row(form, "Resolution", "camera_width", _boxed(size_row))
        cam.addLayout(form)
        test_row = QHBoxLayout()
        self.preview = ImageView(self, placeholder="Test the camera to see it here.")
        self.preview.setFixedSize(200, 150)
        self.test_status = QLabel("", objectName="hint")
        self.test_status.setWordWrap(True)
        self.test_status.setMinimumWidth(160)
        test_row.addWidget(self.preview)
        test_row.addWidget(self.test_status, 1)
        cam.addLayout(test_row)
        cam.addWidget(_note("Applies at the next Start camera in Capture."))
        cam.addStretch(1)

        where = QGroupBox("Data")
        form = QFormLayout(where)
        self.data_dir = QLabel(str(s.data_dir), objectName="dataDir")
        self.database = QLabel(database_text(s), objectName="databaseWhere")
        for label in (self.data_dir, self.database):
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
            label.setWordWrap(True)
        form.addRow("Data folder", self.data_dir)
        form.addRow("Database", self.database)
        form.addRow("", _note("Chosen when the program starts: --data-dir or STATION_DATA_DIR, "
                              "--db-url or STATION_DB_URL (see the README). They cannot change "
                              "while the station runs; this file lives in the data folder."))
        left.addWidget(where)
        # two columns: one column of the three groups was taller than a 768-pixel screen
        body = QHBoxLayout()
        body.addLayout(left)
        body.addWidget(camera)
        col.addLayout(body)

        col.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        self.ok_button = QPushButton("Save", objectName="okButton")
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton")
        keep_default(self.ok_button, self.cancel_button, self.test_button)
        buttons.addButton(self.ok_button, QDialogButtonBox.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.RejectRole)
        self.ok_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        col.addWidget(buttons)

    # -- values ----------------------------------------------------------------------------------
    def chosen_device(self) -> str:
        text = self.device.currentText().strip()
        data = self.device.currentData()
        return str(data) if data is not None and self.device.itemText(
            self.device.currentIndex()) == text else text

    def size(self) -> tuple[int, int]:
        """The chosen resolution (width, height)."""
        w, h = str(self.resolution.currentData()).split("x")
        return int(w), int(h)

    def values(self) -> dict[str, Any]:
        w, h = self.size()
        return {"station_name": self.station_name.text().strip(),
                "camera_device": self.chosen_device(), "camera_width": int(w),
                "camera_height": int(h), "torch_threads": self.threads.value()}

    # -- live test ---------------------------------------------------------------------------------
    def test_camera(self) -> None:
        """Open the chosen camera at the chosen size and show what it delivers."""
        self.stop_test()
        device, (w, h) = self.chosen_device(), self.size()
        self.test_frames = 0
        self.test_status.setText(f"Opening {device}…")
        self.feed = CameraFeed(lambda: self._source_factory(device, w, h), parent=self)
        self.feed.frame.connect(self._test_frame)
        self.feed.lost.connect(lambda m: self.test_status.setText(m))
        self.feed.start()

    def _test_frame(self, image: QImage) -> None:
        self.test_frames += 1
        self.preview.set_image(image)
        w, h = self.size()
        got = f"{image.width()} × {image.height()}"
        note = "" if (image.width(), image.height()) == (w, h) else (
            f" (asked for {w} × {h}: the camera chose its nearest size)")
        self.test_status.setText(f"The camera works: {got} frames{note}. "
                                 f"{self.test_frames} frames so far.")

    def stop_test(self) -> None:
        if self.feed is not None:
            self.feed.stop()
            self.feed = None

    # -- saving ------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done

    def submit(self) -> None:
        if self.busy:
            return
        self.errors.clear()
        values = self.values()
        if not values["station_name"]:
            self.errors.show("station_name", "Give the station a name (e.g. line-1).")
            return
        if not values["camera_device"]:
            self.errors.show("camera_device", "Choose a camera, or type its path or URL.")
            return
        settings = self.ctx.settings
        before = {key: getattr(settings, key) for key in values}
        try:
            for key, value in values.items():
                setattr(settings, key, value)      # typed settings check each value here
        except Exception as exc:  # noqa: BLE001 - a refused value is shown beside the form
            self._restore(before)
            self.errors.show(None, error_text(exc, self.ctx.log_path, "checking the settings"))
            return
        self.ok_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self._restore(before)      # what runs stays what is on disk
            self.errors.show(None, error_text(exc, self.ctx.log_path, "saving settings"))
        self._task = start_task(self, lambda _p: settings.save(), name="save settings",
                                on_success=lambda _r: (self.saved.emit(), self.accept()),
                                on_error=failed,
                                on_finished=lambda: self.ok_button.setEnabled(True))

    def _restore(self, before: dict[str, Any]) -> None:
        for key, value in before.items():
            setattr(self.ctx.settings, key, value)

    def done(self, result: int) -> None:
        self.stop_test()
        if self._task is not None:
            self._task.wait()
        super().done(result)


def _note(text: str) -> QLabel:
    label = QLabel(text, objectName="hint")
    label.setWordWrap(True)
    label.setMinimumWidth(330)      # wrapped notes need a width, or they take a line per word
    return label


def _boxed(layout: QHBoxLayout) -> QWidget:
    box = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    box.setLayout(layout)
    return box
