"""Showing errors to a person.

Two kinds of error reach the GUI:

* errors meant for a person (``core.errors.StationError``, ``db.errors.StationDataError``): their
  ``str(exc)`` is a complete sentence, shown as it is, with no traceback;
* anything else is a bug or a broken environment: it is logged with its traceback to
  ``<log_dir>/station.log`` and the person sees "Something went wrong" and where the log is.

``install_excepthooks`` routes uncaught exceptions (from slots, and from Python threads) the same
way; without it PyQt5 aborts the program on an exception raised inside a slot.

Threading: ``error_text``, ``log_exception`` and ``configure_logging`` may be called from any
thread. ``show_error`` builds a dialog and must run on the GUI thread; the hooks installed by
``install_excepthooks`` hop to the GUI thread through a queued signal before showing anything.
"""
from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType

from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal
from PyQt5.QtWidgets import QApplication, QMessageBox, QWidget

from common.errors import PersonFacingError
from core.errors import StationError
from db.errors import StationDataError

LOG_NAME = "station.log"
log = logging.getLogger("station.gui")
_handler_lock = threading.Lock()


def configure_logging(log_dir: Path) -> Path:
    """Make sure the root logger also writes to ``log_dir/station.log``; return that path.

    Idempotent: a second call for the same file adds no second handler.
    """
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    path = (log_dir / LOG_NAME).resolve()
    root = logging.getLogger()
    with _handler_lock:
        for h in root.handlers:
            if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path:
                return path
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
    return path


def is_for_person(exc: BaseException) -> bool:
    """True for the errors whose message is written for the person at the station."""
    # PersonFacingError is the base of both, and of common.errors.StorageFull (a full disk,
    # raised by core and db alike).
    return isinstance(exc, (PersonFacingError, StationError, StationDataError))


def log_exception(exc: BaseException, log_path: Path, context: str = "") -> None:
    """Write ``exc`` with its traceback to ``log_path`` (adding the file handler if needed)."""
    configure_logging(Path(log_path).parent)
    log.error("Unexpected error%s", f" while {context}" if context else "",
              exc_info=(type(exc), exc, exc.__traceback__))


def _unexpected_text(exc: BaseException, log_path: Path) -> str:
    return (f"Something went wrong ({type(exc).__name__}). The details were written to the "
            f"log file:\n{log_path}")


def error_text(exc: BaseException, log_path: Path, context: str = "") -> str:
    """What to tell a person about ``exc``; logs the traceback when it is not a person's error."""
    if is_for_person(exc):
        return str(exc)
    log_exception(exc, log_path, context)
    return _unexpected_text(exc, log_path)


def show_error(parent: QWidget | None, exc: BaseException, log_path: Path,
               title: str = "Station", context: str = "") -> QMessageBox:
    """Show ``exc`` to a person in a window-modal box (GUI thread only); returns the box.

    The box is opened with ``open()`` rather than ``exec_()`` so that a worker's error path never
    nests an event loop (tests and the inspection worker keep running behind it). With no
    ``parent`` the caller must keep the returned box referenced while it is shown.
    """
    return _message_box(parent, title, error_text(exc, log_path, context), is_for_person(exc))


def _message_box(parent: QWidget | None, title: str, text: str, for_person: bool) -> QMessageBox:
    icon = QMessageBox.Warning if for_person else QMessageBox.Critical
    box = QMessageBox(icon, title, text, QMessageBox.Ok, parent)
    box.setObjectName("errorBox")
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    box.open()
    return box


class _GuiThreadReporter(QObject):
    """Carries uncaught exceptions from any thread to the GUI thread (queued signal)."""

    raised = pyqtSignal(object)

    def __init__(self, log_path: Path) -> None:
        super().__init__()
        self._log_path = log_path
        self._open: list[QMessageBox] = []   # a box without a parent lives only while referenced
        self.raised.connect(self._show, Qt.QueuedConnection)

    def _show(self, exc: BaseException) -> None:
        # the hook has already logged it; only the words are left to build here
        for_person = is_for_person(exc)
        text = str(exc) if for_person else _unexpected_text(exc, self._log_path)
        box = _message_box(QApplication.activeWindow(), "Unexpected error", text, for_person)
        self._open.append(box)
        box.finished.connect(lambda _r, b=box: self._open.remove(b))


def install_excepthooks(app: QApplication, log_path: Path) -> _GuiThreadReporter:
    """Install ``sys.excepthook`` and ``threading.excepthook`` (call before the event loop).

    Person-facing errors are not logged as bugs; everything else is logged with its traceback
    before the dialog is shown. Returns the reporter; keep a reference
    for as long as the hooks are installed.
    """
    reporter = _GuiThreadReporter(log_path)
    reporter.moveToThread(app.thread())

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            app.quit()
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        if not is_for_person(exc):
            log_exception(exc, log_path, "running the station")
        reporter.raised.emit(exc)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return reporter


def on_gui_thread() -> bool:
    """True when called on the thread that owns the QApplication."""
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()
