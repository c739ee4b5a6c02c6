"""The station's look: the style sheet in ``resources/`` and the verdict colours used everywhere.

One place for the colours of pass / review / reject, so a badge in the gallery, a bar in the
statistics and the banner after an inspection always agree (green / amber / red; the values are
the ones the capture panel's slots and banner already use, so they match there too). The colour
is never the only sign: the word PASS / REVIEW / REJECT always goes with it.

Threading: constants and pure functions, usable from any thread; ``apply_style`` touches the
QApplication and must run on the GUI thread.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from PyQt5.QtGui import QColor, QFont, QIcon
from PyQt5.QtWidgets import QApplication

from app.palette import (  # noqa: F401
    NEUTRAL_COLOUR,
    PASS_COLOUR,
    REJECT_COLOUR,
    REVIEW_COLOUR,
    VERDICT_COLOURS,
    VERDICT_FOREGROUND,
    VERDICT_TEXT,
    VERDICT_TEXT_COLOURS,
)
from core.results import Outcome

BASE_POINT_SIZE = 11
STYLE_SHEET = "station.qss"

# The station's own colours beyond the verdicts (the style sheet styles the widgets it can reach
# with the same values; these are for painting and charts).
TEXT_COLOUR = "#1a1f24"
MUTED_TEXT_COLOUR = "#4d5966"
ACCENT_COLOUR = "#1e88e5"          # the next slot to fill, the ROC curve
SELECTED_COLOUR = "#24507a"
CARD_BORDER_COLOUR = "#c6ced8"
CARD_COLOUR = "#ffffff"
PLACEHOLDER_COLOUR = "#e3e8ee"     # where a thumbnail is still loading
GUIDE_COLOUR = "#999999"           # chance line and the 0.5 marker in charts
EMPTY_BORDER_COLOUR = "#555555"
BANNER_IDLE_COLOUR = "#37474f"
BANNER_ERROR_COLOUR = "#b71c1c"
# An error message in a label: the same red and weight as the style sheet's QLabel#errorLabel.
ERROR_STYLE = f"color: {REJECT_COLOUR}; font-weight: bold;"
OUTCOME_COLOURS: dict[Outcome, str] = {o: VERDICT_COLOURS[o.value] for o in Outcome}


def error_style(error: bool = True) -> str:
    """The style sheet of a status label: red and bold for an error, plain otherwise."""
    return ERROR_STYLE if error else ""


def verdict_colour(verdict: str | None) -> QColor:
    return QColor(VERDICT_COLOURS.get(str(verdict or "").lower(), NEUTRAL_COLOUR))


def verdict_badge_css(verdict: str | None) -> str:
    """Inline style for a QLabel badge showing ``verdict``."""
    key = str(verdict or "").lower()
    bg = VERDICT_COLOURS.get(key, NEUTRAL_COLOUR)
    fg = VERDICT_FOREGROUND.get(key, CARD_COLOUR)
    return (f"background:{bg}; color:{fg}; border-radius:4px; padding:2px 10px; "
            "font-weight:bold;")


def icons_dir() -> Path:
    return Path(str(resources.files("resources").joinpath("icons")))


def load_style_sheet() -> str:
    """The application style sheet from the ``resources`` package, with its icon paths filled in
    (a style sheet cannot name a file relative to itself)."""
    text = resources.files("resources").joinpath(STYLE_SHEET).read_text(encoding="utf-8")
    return text.replace("@ICONS@", icons_dir().as_posix())


def apply_style(app: QApplication) -> None:
    """Fusion style, a large base font and the station style sheet (GUI thread)."""
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(load_style_sheet())
    app.setWindowIcon(QIcon(str(icons_dir() / "station.svg")))
