"""Start-up: the engine's modules are imported one at a time inside the event loop, and the
sign-in dialog (already open) or, after a quick sign-in, a splash shows which and how far.

Why this shape: importing torch and its friends takes seconds and holds the GIL, so it cannot
run in a worker without freezing the window anyway; importing it before the event loop left the
person with no window at all for 3-14 s. Here each module is one step of the event loop
(``QTimer.singleShot(0)``): between two modules the progress repaints and the sign-in dialog
takes what was typed. No ``processEvents`` call anywhere: events are handled by the one loop of
``run_gui``, in order (an earlier splash pumped events itself and ran the tests' timers early;
``QSplashScreen.repaint`` does that too, and showing any top-level window before the loop runs
the posted events, so the splash is shown only from inside the loop).

Threading: GUI thread only.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import Sequence

from PyQt5.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QGuiApplication, QPainter
from PyQt5.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

SPLASH_SIZE = (480, 200)


class EngineLoader(QObject):
    """Imports ``modules`` one per event-loop step: ``progress(done, total, name)`` before each,
    ``finished(seconds)`` after the last. A module that is not installed is skipped (its job
    will say so when it is used)."""

    progress = pyqtSignal(int, int, str)
    finished = pyqtSignal(float)

    def __init__(self, modules: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.modules = list(modules)
        self.done = 0
        self._started = 0.0

    def start(self) -> None:
        self._started = time.perf_counter()
        self.progress.emit(0, len(self.modules), self.modules[0] if self.modules else "")
        QTimer.singleShot(0, self._step)

    def _step(self) -> None:
        if self.done >= len(self.modules):
            seconds = time.perf_counter() - self._started
            log.info("engine modules imported in %.1f s (during start-up)", seconds)
            self.finished.emit(seconds)
            return
        name = self.modules[self.done]
        try:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        except ImportError as exc:
            log.info("engine module %s not imported: %s", name, exc)
        except Exception:  # a broken module must not keep the window closed (logged)
            log.exception("engine module %s failed to import; the jobs that need it will say "
                          "so", name)
        self.done += 1
        nxt = self.modules[self.done] if self.done < len(self.modules) else "ready"
        self.progress.emit(self.done, len(self.modules), nxt)
        QTimer.singleShot(0, self._step)      # back to the loop: paint, typing, then the next


class StartupSplash(QWidget):
    """The station's name, a progress bar and the current step. Not "stay on top": the sign-in
    dialog opens above it. A plain widget, not a ``QSplashScreen``, whose repaint pumps the
    event loop itself."""

    def __init__(self, station_name: str = "", note: str = "") -> None:
        super().__init__(None, Qt.FramelessWindowHint | Qt.SplashScreen)
        self.note = note
        self.setObjectName("startupSplash")
        self.setFixedSize(*SPLASH_SIZE)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            centre = screen.availableGeometry().center()
            self.move(centre.x() - SPLASH_SIZE[0] // 2, centre.y() - SPLASH_SIZE[1] // 2)
        self.station_name = station_name
        self.done, self.total, self.text = 0, 1, "Loading the inspection engine…"
        self.messages: list[str] = []       # every step shown (for the log and the tests)

    def set_engine_progress(self, done: int, total: int, text: str) -> None:
        self.done, self.total, self.text = done, max(1, total), text
        self.messages.append(f"{done}/{total} {text}")
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        w, h = SPLASH_SIZE
        painter.fillRect(self.rect(), QColor("#16324f"))
        painter.setPen(QColor("#ffffff"))
        font = QFont(painter.font())
        font.setPointSize(16)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(24, 48, "Can inspection station")
        font.setPointSize(10)
        font.setBold(False)
        painter.setFont(font)
        if self.station_name:
            painter.drawText(24, 72, f"Station {self.station_name}")
        if self.note:
            painter.drawText(24, 84, w - 48, 40, int(Qt.TextWordWrap), self.note)
        painter.drawText(24, h - 56, self.text)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor("#2f5f8f"))
        painter.drawRoundedRect(24, h - 40, w - 48, 14, 6, 6)
        painter.setBrush(QColor("#8fd14f"))
        painter.drawRoundedRect(24, h - 40, round((w - 48) * self.done / self.total), 14, 6, 6)


def step_text(done: int, total: int, name: str) -> str:
    if name == "ready":
        return "The inspection engine is ready."
    return f"Loading the inspection engine: {name} ({done + 1} of {total})"


class EngineProgress(QWidget):
    """The engine's progress as a line and a thin bar, for the sign-in and first-run dialogs
    (hidden once the engine is in)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("engineProgress")
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 4, 0, 0)
        col.setSpacing(2)
        self.label = QLabel("", self)
        self.label.setObjectName("hint")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("engineBar")
        self.bar.setTextVisible(False)
        col.addWidget(self.label)
        col.addWidget(self.bar)
        self.hide()

    def set_engine_progress(self, done: int, total: int, text: str) -> None:
        if done >= total and not text:
            self.hide()
            return
        self.label.setText(text)
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.show()
