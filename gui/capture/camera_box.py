"""The live preview of the capture panel: the camera feed, its state, Start/Restart and Capture.

A camera that is missing or unplugged mid-shift shows its message here and disables Capture;
nothing else in the panel changes (the captured sides stay as they are).

Threading rule: GUI thread only. Frames are grabbed in ``CameraFeed``'s thread and arrive as
QImages; the newest one is handed out as numpy by ``frame()``.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from gui.camera import CameraFeed, FrameSource
from gui.theme import error_style
from gui.widgets.image_view import ImageView


class CameraBox(QWidget):
    """``capture_requested`` when Capture is pressed; ``state_changed`` when the camera opens,
    stops or is lost (the panel updates its buttons)."""

    capture_requested = pyqtSignal()
    state_changed = pyqtSignal()

    def __init__(self, source_factory: Callable[[], FrameSource], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feed = CameraFeed(source_factory, parent=self)
        self.ok = False          # between "opened" and "lost"/stop: the newest frame is current
        self.preview = ImageView(self, placeholder="Camera off.\nPress Start camera.")
        self.preview.setMinimumSize(80, 60)
        self.status = QLabel("", self)
        self.status.setObjectName("cameraStatus")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start camera", self)
        self.capture_button = QPushButton("Capture (Space)", self)
        for b in (self.start_button, self.capture_button):
            b.setFocusPolicy(Qt.NoFocus)  # Space is the capture key, not "press the focused button"
            b.setObjectName("cameraButton")
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        # The box is one cell of the slots' grid, as wide as a side: its buttons sit one above
        # the other so that the cell stays narrow on a 1024-pixel screen.
        self.setObjectName("cameraBox")
        self.setAttribute(Qt.WA_StyledBackground, True)   # so the style sheet's frame is drawn
        title = QLabel("Camera", self)
        title.setObjectName("slotTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(title)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.start_button)
        layout.addWidget(self.capture_button)
        self.start_button.clicked.connect(self.start)
        self.capture_button.clicked.connect(self.capture_requested)
        self.feed.frame.connect(self._on_frame)
        self.feed.opened.connect(self._on_opened)
        self.feed.lost.connect(self._on_lost)

    def start(self) -> None:
        self.ok = False
        self.status.setText("Opening the camera…")
        self.status.setStyleSheet("")
        self.feed.start()
        self.start_button.setText("Restart camera")
        self.state_changed.emit()

    def stop(self) -> None:
        self.ok = False
        self.feed.stop()
        self.state_changed.emit()

    def frame(self) -> np.ndarray | None:
        """The newest frame (RGB, a copy), or None when the camera is not delivering."""
        return self.feed.latest_frame() if self.ok else None

    def _on_frame(self, image: QImage) -> None:
        self.preview.set_image(image)

    def _on_opened(self) -> None:
        self.ok = True
        self.status.setText("Camera on.")
        self.status.setStyleSheet("")
        self.state_changed.emit()

    def _on_lost(self, message: str) -> None:
        self.ok = False
        self.status.setText(message)
        self.status.setStyleSheet(error_style())
        self.preview.placeholder = "No camera.\n" + message
        self.preview.set_image(None)
        self.state_changed.emit()
