"""Line mode: the station at the line, driven by the PLC, seen by the operator.

Start line reads ``<data folder>/line.json``, opens the cameras and the PLC servers it names and
runs the inspection loop, recording the cans as the signed-in user; Stop line ends it (the open
can is finished as incomplete, queued cans are inspected and recorded). The panel shows the
line's state and message, the product the PLC selected, the connected PLCs, the last cans'
verdicts in a strip, the counters, and the line's events (a camera lost and back, a PLC gone).

Threading rule: GUI thread only. Starting and stopping the line block for seconds (servers,
cameras, draining the cans), so they run as ``gui.workers`` tasks; the line's news arrive through
``LineBridge``'s queued signals. The panel never touches a camera, a model or a server itself.
"""
from __future__ import annotations

import logging
from typing import Any

from PyQt5.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from gui.errors import error_text
from gui.line.bridge import LineBridge
from gui.line.strip import VerdictStrip
from gui.workers import TaskHandle, start_task
from line.events import CanReport, Counters, LineStatus

STATE_COLOURS = {"idle": "#5f6b7a", "ready": "#2e7d32", "busy": "#1565c0", "error": "#c62828"}
EVENTS_KEPT = 200


def start_line(progress: Any, station: Any, actor: Any, settings: Any) -> Any:
    """Worker task: the line of ``line.json``, started (a ``line.station.LineStation``)."""
    from line.config import LineConfig, default_config_path
    from line.station import LineStation

    progress.report(0, 2, "Reading line.json")
    config = LineConfig.load(default_config_path(settings.data_dir))
    line = LineStation(station, actor, config, settings, torch_threads=settings.torch_threads)
    progress.report(1, 2, "Opening the PLC servers")
    line.start()
    progress.report(2, 2, "Line running")
    return line


def stop_line(progress: Any, line: Any) -> None:
    """Worker task: stop the line (its open can is finished as incomplete)."""
    line.stop()


class LinePanel(QWidget):
    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.line: Any = None
        self._task: TaskHandle | None = None
        self.bridge = LineBridge(self)
        self.state = QLabel("OFF", self, objectName="lineState")
        self.message = QLabel("Line mode is off. Start it to let the PLC drive the station.", self)
        self.message.setWordWrap(True)
        self.product = QLabel("–", self)
        self.plc = QLabel("not connected", self)
        self.endpoints = QLabel("–", self)
        self.endpoints.setWordWrap(True)
        self.counters = QLabel("", self)
        self.last = QLabel("–", self)
        self.last.setWordWrap(True)
        self.start_button = QPushButton("Start line", self)
        self.stop_button = QPushButton("Stop line", self)
        self.strip = VerdictStrip(parent=self)
        self.events = QListWidget(self)

        grid = QGridLayout()
        state_row = QHBoxLayout()
        state_row.addWidget(self.state)
        state_row.addStretch(1)
        grid.addWidget(QLabel("State", self), 0, 0)
        grid.addLayout(state_row, 0, 1)
        for row, (label, widget) in enumerate((("Product", self.product), ("PLC", self.plc),
                                               ("Servers", self.endpoints),
                                               ("Cans", self.counters), ("Last can", self.last)),
                                              start=1):
            grid.addWidget(QLabel(label, self), row, 0)
            grid.addWidget(widget, row, 1)
        grid.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addLayout(grid)
        layout.addWidget(QLabel("Last cans (newest on the right)", self))
        layout.addWidget(self.strip)
        layout.addWidget(QLabel("Events", self))
        layout.addWidget(self.events, 1)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.bridge.status.connect(self._on_status)
        self.bridge.published.connect(self._on_published)
        self.bridge.recorded.connect(self._on_recorded)
        self.bridge.event.connect(self._on_event)
        self._show_state("off")
        self._update_buttons()

    # -- start and stop --------------------------------------------------------------------
    def start(self) -> None:
        if self.line is not None or self._busy():
            return
        self.message.setText("Starting the line…")
        self._task = start_task(self, start_line, self._ctx.station, self._ctx.actor,
                                self._ctx.settings, on_success=self._started,
                                on_error=self._start_failed, on_finished=self._update_buttons,
                                name="line-start")
        self._update_buttons()

    def stop(self) -> None:
        if self.line is None or self._busy():
            return
        line, self.line = self.line, None
        line.controller.remove_listener(self.bridge)
        self.message.setText("Stopping the line: finishing the cans in progress…")
        self._task = start_task(self, stop_line, line, on_success=lambda _: self._stopped(),
                                on_error=self._start_failed, on_finished=self._update_buttons,
                                name="line-stop")
        self._update_buttons()

    def shutdown(self) -> None:
        """The window closes: stop the line now (blocks until its cans are recorded)."""
        if self._task is not None:
            self._task.wait(60_000)
        if self.line is not None:
            line, self.line = self.line, None
            line.controller.remove_listener(self.bridge)
            line.stop()

    def _started(self, line: Any) -> None:
        self.line = line
        self.endpoints.setText("\n".join(line.endpoints()) or "none enabled in line.json")
        line.controller.add_listener(self.bridge)
        self._on_counters(line.controller.counters())

    def _start_failed(self, exc: BaseException) -> None:
        self._show_state("off")
        self.message.setText(error_text(exc, self._ctx.log_path, "starting the line"))
        self.message.setStyleSheet("color: #c62828; font-weight: bold;")

    def _stopped(self) -> None:
        self._show_state("off")
        self.plc.setText("not connected")
        self.endpoints.setText("–")
        self.message.setText("Line mode is off.")
        self.message.setStyleSheet("")

    def _busy(self) -> bool:
        return self._task is not None and not self._task.done

    def _update_buttons(self) -> None:
        busy = self._busy()
        self.start_button.setEnabled(self.line is None and not busy)
        self.stop_button.setEnabled(self.line is not None and not busy)

    # -- the line's news (GUI thread, through the bridge) ----------------------------------
    def _on_status(self, status: LineStatus) -> None:
        self._show_state(status.state.value)
        self.message.setText(status.message)
        self.message.setStyleSheet("color: #c62828; font-weight: bold;"
                                   if status.state.value == "error" else "")
        self.product.setText(f"{status.product_sku} ({status.steps_per_can} steps per can"
                             + (f", step {status.step} of the open can)" if status.step else ")")
                             if status.product_sku else "none selected")
        self.plc.setText(", ".join(status.plc) if status.plc else "not connected")

    def _on_published(self, report: CanReport, counters: Counters) -> None:
        self.strip.add(report)
        self._on_counters(counters)
        text = (f"#{report.number} {report.verdict.value.upper()}, "
                f"{report.trigger_to_verdict_ms:.0f} ms after the last trigger")
        self.last.setText(text + (f". Why: {report.reason}" if report.reason else ""))

    def _on_recorded(self, report: CanReport, counters: Counters) -> None:
        self.strip.update_report(report)
        self._on_counters(counters)

    def _on_counters(self, c: Counters) -> None:
        self.counters.setText(f"{c.total} inspected: {c.passed} pass, {c.review} review, "
                              f"{c.rejected} reject ({c.deadline_missed} at the deadline); "
                              f"{c.recorded} saved" + (f", {c.record_failed} NOT saved"
                                                       if c.record_failed else ""))

    def _on_event(self, message: str, level: int) -> None:
        prefix = "⚠ " if level >= logging.WARNING else ""
        self.events.insertItem(0, prefix + message)
        while self.events.count() > EVENTS_KEPT:
            self.events.takeItem(self.events.count() - 1)

    def _show_state(self, state: str) -> None:
        colour = STATE_COLOURS.get(state, "#5f6b7a")
        self.state.setText(state.upper())
        self.state.setStyleSheet(f"background: {colour}; color: white; font-weight: bold; "
                                 "padding: 2px 10px; border-radius: 4px;")
