"""Keyboard-first capture: the keys of the capture panel, installed as shortcuts, and the line
that shows them on screen.

Space captures the next side, Enter inspects, N starts a new can, ← and → choose a side and R
retakes the chosen one. The panel's buttons never take the keyboard focus (``Qt.NoFocus``), so
Space and Enter are never "press the focused button".

Threading rule: GUI thread only.
"""
from __future__ import annotations

from typing import Callable

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QShortcut, QWidget

KEYS = (("Space", "capture"), ("Enter", "inspect"), ("N", "new can"), ("← →", "choose a side"),
        ("R", "retake it"))
HINT = "Keys: " + " · ".join(f"<b>{k}</b> {what}" for k, what in KEYS)


def install(panel: QWidget, actions: dict[str, Callable[[], None]]) -> list[QShortcut]:
    """Shortcuts for ``actions`` keyed "capture", "inspect", "new_can", "previous", "next",
    "retake"; active while the panel (or a child) has the focus."""
    keys = {"capture": (Qt.Key_Space,), "inspect": (Qt.Key_Return, Qt.Key_Enter),
            "new_can": (Qt.Key_N,), "previous": (Qt.Key_Left,), "next": (Qt.Key_Right,),
            "retake": (Qt.Key_R,)}
    made = []
    for name, action in actions.items():
        for key in keys[name]:
            made.append(QShortcut(QKeySequence(key), panel, action,
                                  context=Qt.WidgetWithChildrenShortcut))
    return made
