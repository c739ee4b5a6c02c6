"""The main window: a header naming the user, a navigation list, the panels the role may use.

It only assembles panels that are built elsewhere (one panel per module); it holds no business
logic and calls no service except through the panels. Which panels a role sees is decided by
``db.permissions`` (the same matrix the services enforce), so hiding and enforcing cannot drift
apart. Panels are built the first time they are shown, so signing in stays quick and an
operator's session never loads matplotlib.

Panels may define ``shutdown()``: it is called when the window closes (sign-out, switch user,
quit) to cancel their work; every thread is also registered in ``gui.workers``.

Threading: GUI thread only.
"""
from __future__ import annotations

import logging

from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QKeySequence, QResizeEvent
from PyQt5.QtWidgets import (
    QAction,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.context import AppContext, database_text
from gui.errors import show_error
from gui.panels import PANELS, PanelSpec

log = logging.getLogger(__name__)


NAV_WIDE, NAV_NARROW = 220, 176
DESIGN_SIZE = QSize(1366, 768)
FRAME_ALLOWANCE = QSize(0, 40)   # the window manager's title bar is not part of our size


def fitted_size(available: QSize) -> QSize:
    """The window's first size: the design size, shrunk to the screen's free area (less the
    title bar), so that the status bar is never below the screen's edge."""
    return QSize(min(DESIGN_SIZE.width(), available.width() - FRAME_ALLOWANCE.width()),
                 min(DESIGN_SIZE.height(), available.height() - FRAME_ALLOWANCE.height()))


class MainWindow(QMainWindow):
    """The window of one signed-in session. Emits ``sign_out_requested`` / ``switch_user_requested``;
    ``gui.app`` decides what happens then (it owns the sign-in flow)."""

    sign_out_requested = pyqtSignal()
    switch_user_requested = pyqtSignal()
    closed = pyqtSignal()

    def __init__(self, ctx: AppContext, panels: tuple[PanelSpec, ...] = PANELS) -> None:
        super().__init__()
        self.ctx = ctx
        self.specs = [p for p in panels if p.shown(ctx)]
        self._built: dict[str, QWidget] = {}
        self.setWindowTitle(f"Can inspection station — {ctx.actor.username}")
        self.resize(fitted_size(self.screen().availableGeometry().size() if self.screen()
                                else QSize(1366, 768)))

        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._header())
        body = QHBoxLayout()
        body.setSpacing(0)
        self.nav = QListWidget(objectName="nav")
        self.nav.setFixedWidth(NAV_WIDE)
        self.nav.setWordWrap(True)          # "Capture and inspect" in two lines when narrow
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        for i, spec in enumerate(self.specs):
            item = QListWidgetItem(spec.title)
            item.setData(Qt.UserRole, spec.key)
            item.setToolTip(f"{spec.title} (Ctrl+{i + 1})" if i < 9 else spec.title)
            self.nav.addItem(item)
            # A panel wider or taller than a 1366×768 screen scrolls instead of pushing the
            # window off the screen (the stack's size is the largest of its pages).
            holder = QScrollArea(objectName=f"page_{spec.key}")
            holder.setWidgetResizable(True)
            holder.setFrameShape(QFrame.NoFrame)
            self.stack.addWidget(holder)
        self.nav.currentRowChanged.connect(self._show_row)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(root)
        self._status_bar()
        self._shortcuts()
        if self.specs:
            self.nav.setCurrentRow(0)

    # -- building -------------------------------------------------------------------------
    def _header(self) -> QFrame:
        header = QFrame(objectName="header")
        row = QHBoxLayout(header)
        row.setContentsMargins(16, 8, 12, 8)
        title = QLabel("Can inspection station", objectName="appTitle")
        # the title gives way first on a narrow screen (the buttons must stay whole)
        title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        title.setMinimumWidth(60)
        row.addWidget(title, 1)
        actor = self.ctx.actor
        self.user_label = QLabel(f"Signed in: <b>{actor.username}</b> ({actor.role.value})",
                                 objectName="userLabel")
        row.addWidget(self.user_label)
        row.addSpacing(12)
        self.settings_button = QPushButton("Settings…", objectName="settingsButton")
        self.settings_button.setToolTip("Camera, station name, CPU threads; where the data is")
        self.settings_button.clicked.connect(self.open_settings)
        self.settings_button.setVisible(self.ctx.can("user.manage"))   # admins
        row.addWidget(self.settings_button)
        self.password_button = QPushButton("Password…", objectName="passwordButton")
        self.password_button.setToolTip("Change my password")
        self.password_button.clicked.connect(self.change_password)
        row.addWidget(self.password_button)
        self.switch_button = QPushButton("Switch user", objectName="switchUserButton")
        self.switch_button.clicked.connect(self.switch_user_requested)
        self.sign_out_button = QPushButton("Sign out", objectName="signOutButton")
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        row.addWidget(self.switch_button)
        row.addWidget(self.sign_out_button)
        return header

    def _status_bar(self) -> None:
        settings = self.ctx.settings
        where = database_text(settings)
        self.station_label = QLabel(f"Station: {settings.station_name}")
        self.statusBar().addWidget(self.station_label)
        self.statusBar().addPermanentWidget(QLabel(f"Database: {where}"))

    def _shortcuts(self) -> None:
        for i in range(min(9, len(self.specs))):
            act = QAction(self)
            act.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            act.triggered.connect(lambda _=False, row=i: self.nav.setCurrentRow(row))
            self.addAction(act)
        sign_out = QAction("Sign out", self)
        sign_out.setShortcut(QKeySequence("Ctrl+Shift+Q"))
        sign_out.triggered.connect(self.sign_out_requested)
        self.addAction(sign_out)

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        spec = self.specs[row]
        if spec.key not in self._built:
            holder = self.stack.widget(row)
            try:
                panel = spec.build(self.ctx)
            except Exception as exc:  # noqa: BLE001 - one broken panel must not end the session
                show_error(self, exc, self.ctx.log_path, context=f"opening {spec.title}")
                panel = QLabel(f"{spec.title} could not be opened; see the message.")
                panel.setAlignment(Qt.AlignCenter)
            panel.setObjectName(f"panel_{spec.key}")
            # the capture panel offers a way to the models when the product has none
            wants_models = getattr(panel, "open_models_requested", None)
            if wants_models is not None and any(s.key == "models" for s in self.specs):
                wants_models.connect(lambda: self.show_panel("models"))
            holder.setWidget(panel)
            self._built[spec.key] = panel
        self.stack.setCurrentIndex(row)

    def open_settings(self) -> QWidget:
        from gui.settings_dialog import SettingsDialog
        dialog = SettingsDialog(self.ctx, parent=self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.saved.connect(self._settings_saved)
        dialog.open()
        return dialog

    def _settings_saved(self) -> None:
        self.station_label.setText(f"Station: {self.ctx.settings.station_name}")
        self.statusBar().showMessage("Settings saved.", 8000)

    def change_password(self) -> QWidget:
        from gui.password_dialog import ChangePasswordDialog
        dialog = ChangePasswordDialog(self.ctx, parent=self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.saved.connect(lambda _r: self.statusBar().showMessage(
            "Your password was changed.", 8000))
        dialog.open()
        return dialog

    # -- queries used by tests and by gui.app --------------------------------------------------
    def panel_titles(self) -> list[str]:
        return [s.title for s in self.specs]

    def show_panel(self, key: str) -> QWidget:
        """Select the panel ``key`` (building it if needed) and return it."""
        row = next(i for i, s in enumerate(self.specs) if s.key == key)
        self.nav.setCurrentRow(row)
        self._show_row(row)
        return self._built[key]

    def shutdown(self) -> None:
        """Let every built panel cancel its work (before the window goes away)."""
        for key, panel in self._built.items():
            stop = getattr(panel, "shutdown", None)
            if callable(stop):
                try:
                    stop()
                except Exception:  # keep shutting the others down
                    log.exception("shutting down panel %s failed", key)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        # On a small screen the panels need the width more than the navigation's margins do.
        self.nav.setFixedWidth(NAV_WIDE if event.size().width() >= 1280 else NAV_NARROW)
        super().resizeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()
