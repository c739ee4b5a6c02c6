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
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QKeySequence
from PyQt5.QtWidgets import (QAction, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                             QMainWindow, QPushButton, QScrollArea, QStackedWidget, QVBoxLayout,
                             QWidget)

from db.database import SQLITE_FILE, display_url
from gui.context import AppContext
from gui.errors import show_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    shown: Callable[[AppContext], bool]
    build: Callable[[AppContext], QWidget]


# Each builder imports its module when called: the panel modules may load heavy things
# (matplotlib, the camera) that a role without that panel never needs.
def _capture(ctx: AppContext) -> QWidget:
    from gui.capture.panel import CapturePanel
    return CapturePanel(ctx)


def _line(ctx: AppContext) -> QWidget:
    from gui.line.panel import LinePanel
    return LinePanel(ctx)


def _gallery(ctx: AppContext) -> QWidget:
    from gui.gallery.panel import GalleryPanel
    return GalleryPanel(ctx)


def _stats(ctx: AppContext) -> QWidget:
    from gui.stats_panel import StatsPanel
    return StatsPanel(ctx)


def _users(ctx: AppContext) -> QWidget:
    from gui.admin.users_panel import UsersPanel
    return UsersPanel(ctx)


def _warehouses(ctx: AppContext) -> QWidget:
    from gui.admin.warehouses_panel import WarehousesPanel
    return WarehousesPanel(ctx)


def _products(ctx: AppContext) -> QWidget:
    from gui.admin.products_panel import ProductsPanel
    return ProductsPanel(ctx)


def _models(ctx: AppContext) -> QWidget:
    from gui.models.panel import ModelsPanel
    return ModelsPanel(ctx)


def _stations(ctx: AppContext) -> QWidget:
    from gui.admin.stations_panel import StationsPanel
    return StationsPanel(ctx)


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("capture", "Capture and inspect", lambda c: c.can("inspection.record"), _capture),
    # Line mode only where the station is wired to a line (docs/LINE.md: <data folder>/line.json).
    PanelSpec("line", "Line (PLC)", lambda c: c.can("inspection.record")
              and (Path(c.settings.data_dir) / "line.json").is_file(), _line),
    # Operators browse their own inspections in the same gallery; supervisors see everyone's.
    PanelSpec("my_inspections", "My inspections",
              lambda c: c.can("inspection.view_own") and not c.can("inspection.view_all"), _gallery),
    PanelSpec("gallery", "Gallery", lambda c: c.can("inspection.view_all"), _gallery),
    PanelSpec("stats", "Statistics", lambda c: c.can("stats.view"), _stats),
    PanelSpec("users", "Users", lambda c: c.can("user.manage"), _users),
    PanelSpec("warehouses", "Warehouses", lambda c: c.can("warehouse.manage"), _warehouses),
    PanelSpec("products", "Products", lambda c: c.can("product.manage"), _products),
    PanelSpec("models", "Models", lambda c: c.can("model.manage"), _models),
    PanelSpec("stations", "Stations", lambda c: c.can("station.view"), _stations),
)


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
        self.resize(1366, 768)

        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._header())
        body = QHBoxLayout()
        body.setSpacing(0)
        self.nav = QListWidget(objectName="nav")
        self.nav.setFixedWidth(220)
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
        row.addWidget(QLabel("Can inspection station", objectName="appTitle"))
        row.addStretch(1)
        actor = self.ctx.actor
        self.user_label = QLabel(f"Signed in: <b>{actor.username}</b> ({actor.role.value})",
                                 objectName="userLabel")
        row.addWidget(self.user_label)
        row.addSpacing(12)
        self.switch_button = QPushButton("Switch user", objectName="switchUserButton")
        self.switch_button.clicked.connect(self.switch_user_requested)
        self.sign_out_button = QPushButton("Sign out", objectName="signOutButton")
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        row.addWidget(self.switch_button)
        row.addWidget(self.sign_out_button)
        return header

    def _status_bar(self) -> None:
        settings = self.ctx.settings
        where = (display_url(settings.db_url) if settings.db_url
                 else str(settings.data_dir / SQLITE_FILE))
        self.statusBar().addWidget(QLabel(f"Station: {settings.station_name}"))
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

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()
