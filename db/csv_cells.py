"""Cells for CSV files that people open in a spreadsheet: nothing in them runs as a formula.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``): such
cells get a leading apostrophe, as OWASP's "CSV Injection" page advises, so the spreadsheet shows
the text as it was typed. Numbers (also negative ones, as the station writes them) stay numbers.
Pure functions; any thread. Used by every CSV export (inspections, audit log).
"""
from __future__ import annotations

import math
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if not text.startswith(FORMULA_START) or _is_number(text):
        return text
    return "'" + text


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in values]


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
