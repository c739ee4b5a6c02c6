"""The capture panel's widgets and their places: built here so the panel module keeps to its
behaviour. The camera is the eighth cell of the sides' grid and the buttons share one row, so
the seven sides get the width and height even on a 1024×640 screen.

Threading rule: GUI thread only.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from gui.camera import FrameSource
from gui.capture import keys
from gui.capture.alert import RejectAlert
from gui.capture.banner import VerdictBanner
from gui.capture.camera_box import CameraBox
from gui.capture.product_bar import ProductBar
from gui.capture.slot_grid import SlotGrid
from gui.widgets.image_view import OverlayControls


def build_widgets(panel: Any, ctx: Any, factory: Callable[[], FrameSource]) -> None:
    """Make the panel's widgets as its attributes (``panel.inspect_button``…)."""
    panel.product_bar = ProductBar(ctx, panel)
    panel.camera = CameraBox(factory, panel)
    panel.capture_button = panel.camera.capture_button
    panel.camera_status = panel.camera.status
    panel.import_files_button = QPushButton("Import files…", panel)
    panel.import_folder_button = QPushButton("Import folder…", panel)
    panel.new_can_button = QPushButton("New can (N)", panel)
    panel.inspect_button = QPushButton("Inspect (Enter)", panel)
    panel.inspect_button.setObjectName("inspectButton")
    panel.progress = QProgressBar(panel)
    panel.progress.setTextVisible(True)
    panel.progress.setFormat("")
    panel.overlay = OverlayControls(panel)
    panel.banner = VerdictBanner(panel)
    panel.status = QLabel("", panel)
    panel.status.setObjectName("captureStatus")
    panel.status.setWordWrap(True)
    panel.save_again_button = QPushButton("Save again", panel)
    panel.save_again_button.hide()
    for b in (panel.import_files_button, panel.import_folder_button, panel.new_can_button,
              panel.inspect_button, panel.save_again_button):
        b.setFocusPolicy(Qt.NoFocus)  # Space is the capture key, not "press the focused button"
    panel.grid = SlotGrid(panel.overlay, panel)
    panel.key_hint = QLabel(keys.HINT, panel)
    panel.key_hint.setObjectName("keyHint")
    panel.key_hint.setWordWrap(True)
    panel.alert = RejectAlert(panel)
    panel.alert_box = QCheckBox("Sound and flash on REJECT", panel)
    panel.alert_box.setObjectName("rejectAlert")
    panel.alert_box.setChecked(bool(ctx.settings.reject_alert))
    panel.alert.enabled = panel.alert_box.isChecked()
    panel.alert_box.setFocusPolicy(Qt.NoFocus)
    panel.alert_box.toggled.connect(panel._alert_toggled)


def lay_out(panel: QWidget) -> None:
    # The camera is the eighth cell of the slots' grid and the buttons share one row, so
    # the seven sides get the width and height even on a 1024×640 screen.
    panel.grid.set_extra(panel.camera)
    top = QHBoxLayout()
    top.addWidget(panel.product_bar, 1)
    top.addWidget(panel.overlay)
    run_row = QHBoxLayout()
    for b in (panel.inspect_button, panel.new_can_button, panel.import_files_button,
              panel.import_folder_button):
        run_row.addWidget(b)
    run_row.addWidget(panel.progress, 1)
    status_row = QHBoxLayout()
    status_row.addWidget(panel.status, 1)
    status_row.addWidget(panel.save_again_button)
    foot = QHBoxLayout()
    foot.addWidget(panel.key_hint, 1)
    foot.addWidget(panel.alert_box)
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(8, 6, 8, 6)
    outer.setSpacing(6)
    outer.addLayout(top)
    outer.addWidget(panel.grid, 1)
    outer.addLayout(run_row)
    outer.addWidget(panel.banner)
    outer.addLayout(status_row)
    outer.addLayout(foot)
