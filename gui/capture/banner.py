"""The can's verdict in big letters: PASS / REVIEW / REJECT, or what is going on / what went wrong.

Threading rule: GUI thread only.
"""
from __future__ import annotations

import html

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import QLabel, QSizePolicy, QWidget

from core.results import Outcome
from gui.theme import BANNER_ERROR_COLOUR, BANNER_IDLE_COLOUR, OUTCOME_COLOURS


class VerdictBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictBanner")
        self.setAlignment(Qt.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long details never widen it
        self.setTextFormat(Qt.RichText)
        self.verdict: Outcome | None = None
        self.kind = "idle"
        self.show_message("Capture the seven sides, then press Inspect.")

    def _paint(self, background: str, foreground: str, size: int) -> None:
        font = QFont(self.font())
        font.setPointSize(size)
        font.setBold(True)
        self.setFont(font)
        # ``flash`` (set by the REJECT alert) inverts the colours for a moment
        self.setStyleSheet(f"#verdictBanner {{ background: {background}; color: {foreground}; "
                           "border-radius: 6px; padding: 6px; border: 4px solid "
                           f"{background}; }} #verdictBanner[flash=\"true\"] {{ background: "
                           f"#ffffff; color: {background}; }}")

    def show_verdict(self, verdict: Outcome, detail: str = "") -> None:
        self.verdict, self.kind = verdict, "verdict"
        lines = html.escape(detail).replace("\n", "<br>")
        small = f"<br><span style='font-size:10pt; font-weight:normal'>{lines}</span>"
        self.setText(f"<span style='font-size:26pt'>{verdict.value.upper()}</span>"
                     + (small if detail else ""))
        self._paint(OUTCOME_COLOURS[verdict], "white", 11)

    def show_message(self, text: str) -> None:
        self.verdict, self.kind = None, "idle"
        self.setText(html.escape(text))
        self._paint(BANNER_IDLE_COLOUR, "white", 11)

    def show_error(self, text: str) -> None:
        self.verdict, self.kind = None, "error"
        self.setText(html.escape(text).replace("\n", "<br>"))
        self._paint(BANNER_ERROR_COLOUR, "white", 11)
