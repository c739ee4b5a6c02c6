"""The line's news on the GUI thread: a ``line.events.LineListener`` whose methods (called on the
controller's threads) only emit signals; Qt queues them to the GUI thread, where the panel lives.

Threading rule: create it on the GUI thread; the listener methods may be called from any thread.
"""
from __future__ import annotations

import logging

from PyQt5.QtCore import QObject, pyqtSignal

from line.events import CanReport, Counters, LineStatus


class LineBridge(QObject):
    status = pyqtSignal(object)                  # LineStatus
    published = pyqtSignal(object, object)       # CanReport, Counters
    recorded = pyqtSignal(object, object)        # CanReport (with inspection_id), Counters
    event = pyqtSignal(str, int)                 # message, logging level

    def line_status(self, status: LineStatus) -> None:
        self.status.emit(status)

    def can_published(self, report: CanReport, counters: Counters) -> None:
        self.published.emit(report, counters)

    def can_recorded(self, report: CanReport, counters: Counters) -> None:
        self.recorded.emit(report, counters)

    def line_event(self, message: str, level: int = logging.INFO) -> None:
        self.event.emit(message, level)
