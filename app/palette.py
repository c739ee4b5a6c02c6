"""The verdict colours and words, as plain hex strings: the one place they are defined.

The GUI's theme (``gui.theme``), the statistics charts and the PDF report all read them, so a badge
in the gallery, a bar in the statistics and a page of the report always agree. The colour is never
the only sign: the word PASS / REVIEW / REJECT always goes with it. Constants only; any thread.
"""
from __future__ import annotations

# Verdict colours (hex strings, so matplotlib, style sheets and QColor can all use them).
PASS_COLOUR = "#2e7d32"
REVIEW_COLOUR = "#f9a825"
REJECT_COLOUR = "#c62828"
NEUTRAL_COLOUR = "#5f6b7a"

VERDICT_COLOURS: dict[str, str] = {"pass": PASS_COLOUR, "review": REVIEW_COLOUR,
                                   "reject": REJECT_COLOUR}
VERDICT_TEXT: dict[str, str] = {"pass": "PASS", "review": "REVIEW", "reject": "REJECT"}
# Verdict words written in colour on a light background: amber text is too pale to read, so
# review text uses a dark amber (the badge colours above stay for fills).
VERDICT_TEXT_COLOURS: dict[str, str] = {"pass": PASS_COLOUR, "review": "#8d5b00",
                                        "reject": REJECT_COLOUR}
# Text on top of the colour: dark on amber reads better than white.
VERDICT_FOREGROUND: dict[str, str] = {"pass": "#ffffff", "review": "#1a1a1a", "reject": "#ffffff"}
