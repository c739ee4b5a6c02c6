"""Starting the desktop station: the application, its error hooks, the database, the sign-in flow.

``run_gui(settings)`` is called by ``main.py``. It:

1. creates the QApplication with the station's style sheet;
2. writes logs to ``settings.log_dir/station.log`` and installs ``sys.excepthook`` and
   ``threading.excepthook`` before the event loop;
3. opens the database (``db.Station.open``), explaining in a dialog when it is locked, newer than
   this program or unreachable;
4. installs and registers the bundled default model at a data folder's first start
   (``app.first_start``);
5. hands over to ``SessionFlow``: first-run dialog on an empty database, then sign-in, then the
   main window for the signed-in role; sign-out and switch-user go back to sign-in without
   restarting, and the window is rebuilt for the new role;
6. meanwhile, inside the event loop, imports the engine one module at a time (``gui.startup``)
   and then starts the one inference thread shared by every session. The sign-in dialog is up
   at once and shows the real progress; a person who signs in before the engine is in sees a
   splash with the progress until the window opens.

Threading: everything here runs on the GUI thread.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, Qt, pyqtSignal
from PyQt5.QtWidgets import QApplication, QDialog, QMessageBox

from app.first_start import install_bundled_model
from app.site_sync import SiteSync
from gui.context import AppContext
from gui.errors import configure_logging, install_excepthooks, is_for_person, log_exception
from gui.first_run_dialog import FirstRunDialog
from gui.inference import ENGINE_MODULES, InferenceService
from gui.login_dialog import LoginDialog
from gui.main_window import MainWindow
from gui.startup import EngineLoader, StartupSplash, step_text
from gui.theme import apply_style
from gui.workers import shutdown_all

log = logging.getLogger(__name__)


class SessionFlow(QObject):
    """First run → sign in → main window → (sign out | switch user) → sign in → …

    Dialogs are opened with ``open()`` (not ``exec_()``) so the flow runs inside the one event
    loop of ``run_gui`` and tests can drive it with qtbot. ``ended`` is emitted when the person
    quits (closes the window, or cancels the sign-in with no window open).
    """

    ended = pyqtSignal()
    window_opened = pyqtSignal(object)   # the new MainWindow

    def __init__(self, settings: Any, station: Any, inference: Any, log_path: Path,
                 window_factory: Callable[[AppContext], MainWindow] = MainWindow) -> None:
        super().__init__()
        self.settings = settings
        self.station = station
        self.inference = inference
        self.log_path = log_path
        self.window_factory = window_factory
        self.window: MainWindow | None = None
        self.dialog: QDialog | None = None      # sign-in, first run, or a forced new password
        # run_gui sets it while the engine is still being imported: a window opens only with it
        self.engine_pending = False
        self.engine_step: tuple[int, int, str] | None = None
        self.splash: StartupSplash | None = None
        self._pending_actor: Any = None

    def engine_progress(self, done: int, total: int, name: str) -> None:
        """A step of the engine's import: shown in the open dialog, or in the splash."""
        self.engine_step = (done, total, step_text(done, total, name))
        for shown in (self.dialog, self.splash):
            show = getattr(shown, "set_engine_progress", None)
            if show is not None:
                show(*self.engine_step)

    def set_inference(self, inference: Any) -> None:
        """The engine is in: open the window of whoever signed in meanwhile."""
        self.inference = inference
        self.engine_pending = False
        if self.splash is not None:
            self.splash.close()
            self.splash = None
        for shown in (self.dialog,):
            done = getattr(shown, "set_engine_progress", None)
            if done is not None:
                done(1, 1, "")
        actor, self._pending_actor = self._pending_actor, None
        if actor is not None:
            self.open_window(actor)

    # -- steps ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.station.auth.has_users():
            self.show_sign_in()
        else:
            dialog = FirstRunDialog(self.station, self.log_path)
            dialog.created.connect(self.open_window)
            dialog.rejected.connect(self._quit_if_no_window)
            self._open_dialog(dialog)

    def show_sign_in(self, *, switching: bool = False) -> None:
        """The sign-in dialog; when ``switching``, over the current window, which stays on cancel."""
        parent = self.window if switching else None
        dialog = LoginDialog(self.station, self.log_path, parent,
                             station_name=self.settings.station_name,
                             cancel_text="Cancel" if switching else "Quit")
        dialog.signed_in.connect(self.open_window)
        if not switching:
            dialog.rejected.connect(self._quit_if_no_window)
        self._open_dialog(dialog)

    def open_window(self, actor: Any) -> None:
        """Replace any open window with one built for ``actor`` (once the engine is in, and once
        a new password was chosen where an admin asked for one)."""
        if actor.must_change_password:
            self._ask_new_password(actor)
            return
        if self.engine_pending:
            self._pending_actor = actor
            self.splash = StartupSplash(self.settings.station_name,
                                        f"Signed in as {actor.username}. The window opens as "
                                        "soon as the inspection engine is ready.")
            if self.engine_step is not None:
                self.splash.set_engine_progress(*self.engine_step)
            self.splash.show()
            return
        self._close_window()
        ctx = AppContext(self.settings, self.station, actor, self.inference, self.log_path)
        window = self.window_factory(ctx)
        window.sign_out_requested.connect(self.sign_out)
        window.switch_user_requested.connect(lambda: self.show_sign_in(switching=True))
        window.closed.connect(self._window_closed_by_user)
        self.window = window
        window.show()
        self.window_opened.emit(window)

    def _ask_new_password(self, actor: Any) -> None:
        """Between sign-in and the window: every service refuses this account until it has a
        new password, so the window would only show refusals. Cancel is "Sign out"."""
        from gui.password_dialog import ChangePasswordDialog

        self._close_window()
        ctx = AppContext(self.settings, self.station, actor, self.inference, self.log_path)
        dialog = ChangePasswordDialog(ctx, forced=True)
        dialog.saved.connect(lambda _r: self.open_window(replace(actor,
                                                                 must_change_password=False)))
        dialog.rejected.connect(self.show_sign_in)
        self._open_dialog(dialog)

    def sign_out(self) -> None:
        self._close_window()
        self.show_sign_in()

    def shutdown(self) -> None:
        """Close the window and any dialog (at exit)."""
        if self.splash is not None:
            self.splash.close()
        if self.dialog is not None:
            self.dialog.close()
        self._close_window()

    # -- helpers ----------------------------------------------------------------------------
    def _open_dialog(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.finished.connect(lambda _r, d=dialog: self._forget_dialog(d))
        show = getattr(dialog, "set_engine_progress", None)
        if self.engine_pending and self.engine_step is not None and show is not None:
            show(*self.engine_step)
        dialog.open()

    def _forget_dialog(self, dialog: object) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _close_window(self) -> None:
        window, self.window = self.window, None
        if window is None:
            return
        window.closed.disconnect(self._window_closed_by_user)  # closing on purpose, not quitting
        window.close()
        window.deleteLater()

    def _window_closed_by_user(self) -> None:
        self.window = None
        self.ended.emit()

    def _quit_if_no_window(self) -> None:
        if self.window is None:
            self.ended.emit()


def open_station(settings: Any, log_path: Path) -> Any | None:
    """``db.Station.open`` for the settings, or None after telling the person why it failed."""
    from db import Station  # imported here so a broken database layer is reported, not a crash
    from db.database import display_url

    try:
        return Station.from_settings(settings, register=True)
    except Exception as exc:  # noqa: BLE001 - every failure gets a dialog
        where = display_url(settings.db_url) if settings.db_url else str(settings.data_dir)
        if is_for_person(exc):
            text = str(exc)
        else:
            log_exception(exc, log_path, "opening the database")
            text = (f"The database at {where} cannot be opened or reached ({type(exc).__name__}: "
                    f"{exc}).\n\nThe details were written to {log_path}.")
        QMessageBox.critical(None, _open_failure_title(exc), text)
        return None


def _open_failure_title(exc: BaseException) -> str:
    """The dialog's title for what went wrong at start (the text says what to do)."""
    titles = {"DataFolderMismatch": "Data folder and database do not match",
              "DataFolderUnusable": "Data folder unavailable", "DatabaseDamaged": "Database damaged",
              "StorageFull": "Disk full", "UpgradeRefused": "Database not upgraded",
              "SchemaOutdated": "Database from a newer station",
              "ImageStoreUnavailable": "Photo store unavailable",
              "ImageStoreRefused": "Photo store refused the station",
              "StationNameTaken": "Station name taken"}
    return titles.get(type(exc).__name__, "Database unavailable")


# Qt's X11 plugin loads the system's OpenGL (Mesa, with its own LLVM) for GLX windows; torch's
# triton brings another LLVM, and importing it after that crashed the process (segfault in
# triton's libtriton under Xvfb + Mesa, seen when the engine loads while the sign-in dialog is
# up). The station draws no OpenGL (widgets paint in software, charts with Agg), so Qt's GL
# integration is left out unless the person asks for it.
XCB_GL = ("QT_XCB_GL_INTEGRATION", "none")


def run_gui(settings: Any) -> int:
    """Run the desktop station until the person quits; returns the process exit code."""
    os.environ.setdefault(*XCB_GL)   # before the QApplication: see XCB_GL
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Can inspection station")
    app.setQuitOnLastWindowClosed(False)  # between sign-out and sign-in no window is open
    apply_style(app)
    try:
        log_path = configure_logging(settings.log_dir)
    except OSError as exc:      # the data folder itself is unusable: nothing else can work
        QMessageBox.critical(None, "Data folder unavailable",
                             f"The station cannot write to its data folder {settings.data_dir}: "
                             f"{exc.strerror or exc}.\n\nChoose another with --data-dir or "
                             "STATION_DATA_DIR.")
        return 2
    reporter = install_excepthooks(app, log_path)  # noqa: F841 - must live as long as the loop
    station = open_station(settings, log_path)
    if station is None:
        return 2
    try:
        install_bundled_model(station, settings.models_dir)
    except Exception as exc:  # noqa: BLE001 - the station works without it; admins add models
        log_exception(exc, log_path, "installing the bundled model")
    flow = SessionFlow(settings, station, None, log_path)
    flow.engine_pending = True
    flow.ended.connect(app.quit)
    sync = SiteSync(station)        # heartbeat, and models rolled out to the site
    sync.start()
    loader = EngineLoader(ENGINE_MODULES)
    loader.progress.connect(flow.engine_progress)
    engine: list[InferenceService] = []

    def engine_in(_seconds: float) -> None:
        # the modules are in sys.modules now: this only freezes them for the collector and
        # starts the inference thread
        engine.append(InferenceService(settings.torch_threads,
                                       runtime=settings.inference_runtime,
                                       cache_root=settings.data_dir / "cache" / "runtime",
                                       prepare=station.site_models.ensure))
        flow.set_inference(engine[0])

    loader.finished.connect(engine_in)
    try:
        flow.start()              # the sign-in dialog opens at once, with the engine's progress
        loader.start()
        return app.exec_()
    finally:
        sync.stop()
        flow.shutdown()
        for inference in engine:
            inference.shutdown()
        left = shutdown_all()
        if left:
            log.warning("%d worker threads did not stop at exit", len(left))
        close = getattr(station, "close", None)
        if callable(close):
            close()
