"""Keyboard-first capture: the keys of the capture panel, installed as shortcuts, and the line
that shows them on screen.

Space captures the next side, Enter inspects, N starts a new can, ← and → choose a side and R
retakes the chosen one. The panel's buttons never take the keyboard focus (``Qt.NoFocus``), so
Space and Enter are never "press the focused button".

Threading rule: GUI thread only.
"""
from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QShortcut, QWidget

from gui.workers import start_task

KEYS = (("Space", "capture"), ("Enter", "inspect"), ("N", "new can"), ("← →", "choose a side"),
        ("R", "retake it"))
HINT = "Keys: " + " · ".join(f"<b>{k}</b> {what}" for k, what in KEYS)


def install(panel: QWidget, actions: dict[str, Callable[[], None]]) -> list[QShortcut]:
    """Shortcuts for ``actions`` keyed "capture", "inspect", "new_can", "previous", "next",
    "retake"; active whenever the panel is shown in the active window, wherever the focus is
    (after sign-in it is on the navigation list: Space must capture all the same). The panel
    has no text field for them to steal from, and hidden panels' shortcuts are off."""
    keys = {"capture": (Qt.Key_Space,), "inspect": (Qt.Key_Return, Qt.Key_Enter),
            "new_can": (Qt.Key_N,), "previous": (Qt.Key_Left,), "next": (Qt.Key_Right,),
            "retake": (Qt.Key_R,)}
    made = []
    for name, action in actions.items():
        for key in keys[name]:
            made.append(QShortcut(QKeySequence(key), panel, action,
                                  context=Qt.WindowShortcut))
    return made


class KeysMixin:
    """The capture panel's side of the keys: choosing a side, retaking it, Enter and N."""

    def select_side(self, index: int, relative: bool = False) -> None:
        """Choose a side (a click, or ← → with ``relative``); R retakes the chosen one."""
        if not self.slots:
            return
        if relative:
            start = self.selected if self.selected is not None else (
                -1 if index > 0 else len(self.slots))
            index = start + index
        self.selected = max(0, min(len(self.slots) - 1, index))
        for slot in self.slots:
            slot.set_selected(slot.index == self.selected)

    def retake_selected(self) -> None:
        if self.selected is None:
            self._say("Choose a side first (click it, or ← →), then R retakes it.")
            return
        if self.slots[self.selected].filled:
            self.retake(self.selected)

    def _inspect_key(self) -> None:
        # A second Enter on an inspected can is a bounce, not a wish to judge it again (the
        # Inspect button still does that).
        if self._result is None and self.inspect_button.isEnabled():
            self.inspect()

    def _new_can_key(self) -> None:
        if self.new_can_button.isEnabled():
            self.new_can()

    def _alert_toggled(self, on: bool) -> None:
        """On or off for this station, kept in settings.json (written in a worker)."""
        self.alert.enabled = on
        if not on:
            self.alert.stop()
        settings = self._ctx.settings
        if settings.reject_alert != on:
            settings.reject_alert = on
            self._tasks.append(start_task(self, lambda _p: settings.save(),
                                          name="save settings", on_finished=self._task_done,
                                          on_error=self._on_task_error("saving the settings")))
