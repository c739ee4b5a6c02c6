"""The last cans' verdicts in a strip: one tile per can, newest on the right, in the verdict's
colour and word (never the colour alone); a can cut short or rejected at its deadline is marked,
and its tooltip says why.

Threading rule: GUI thread only.
"""
from __future__ import annotations

from collections import deque

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.palette import VERDICT_COLOURS, VERDICT_FOREGROUND, VERDICT_TEXT
from line.events import CanReport


class VerdictStrip(QWidget):
    def __init__(self, size: int = 16, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports: deque[CanReport] = deque(maxlen=size)
        self._tiles: list[QLabel] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for _ in range(size):
            tile = QLabel("", self)
            tile.setAlignment(Qt.AlignCenter)
            tile.setMinimumSize(64, 44)
            tile.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            layout.addWidget(tile)
            self._tiles.append(tile)
        self._paint()

    def add(self, report: CanReport) -> None:
        self.reports.append(report)
        self._paint()

    def update_report(self, report: CanReport) -> None:
        """A can's report again (recorded: its inspection id is known)."""
        for i, old in enumerate(self.reports):
            if old.can_id == report.can_id:
                self.reports[i] = report
        self._paint()

    def _paint(self) -> None:
        shown = list(self.reports)
        blanks = len(self._tiles) - len(shown)
        for i, tile in enumerate(self._tiles):
            if i < blanks:
                tile.setText("")
                tile.setToolTip("")
                tile.setStyleSheet("background: #eceff1; border-radius: 4px;")
                continue
            r = shown[i - blanks]
            v = r.verdict.value
            mark = " ⏱" if r.deadline_missed else (" !" if r.reason else "")
            tile.setText(f"#{r.number}\n{VERDICT_TEXT[v]}{mark}")
            tile.setStyleSheet(f"background: {VERDICT_COLOURS[v]}; color: {VERDICT_FOREGROUND[v]};"
                               " border-radius: 4px; font-weight: bold;")
            sides = ", ".join(f"{n}: {o}" for n, o in zip(r.side_names, r.side_outcomes))
            lines = [f"Can #{r.number} ({r.sku}): {VERDICT_TEXT[v]}",
                     f"{r.trigger_to_verdict_ms:.0f} ms from the last trigger", sides]
            if r.reason:
                lines.append(f"Why: {r.reason}")
            if r.inspection_id is not None:
                lines.append(f"Saved as inspection #{r.inspection_id}")
            tile.setToolTip("\n".join(lines))
