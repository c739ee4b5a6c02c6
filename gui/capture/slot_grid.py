"""The seven (or however many the product has) side slots of the capture panel, in a grid: which
one is next, filling them in order, clearing photos or verdicts.

Threading rule: GUI thread only; it holds numpy arrays and QImages made by workers.
"""
from __future__ import annotations

from collections.abc import Sequence

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QGridLayout, QWidget

from gui.capture.slot import SlotWidget
from gui.widgets.image_view import OverlayControls

COLUMNS = 4


class SlotGrid(QWidget):
    """``retake(index)`` and ``files_dropped(index, paths)`` come from the slots."""

    retake = pyqtSignal(int)
    files_dropped = pyqtSignal(int, list)
    clicked = pyqtSignal(int)

    def __init__(self, overlay: OverlayControls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._overlay = overlay
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        self.slots: list[SlotWidget] = []
        self._extra: QWidget | None = None

    def rebuild(self, side_names: Sequence[str]) -> None:
        for slot in self.slots:
            self._grid.removeWidget(slot)
            slot.deleteLater()
        self.slots = []
        for i, side in enumerate(side_names):
            slot = SlotWidget(i, side, self)
            slot.retake.connect(self.retake)
            slot.files_dropped.connect(self.files_dropped)
            slot.clicked.connect(self.clicked)
            self._overlay.bind(slot.view)
            self._grid.addWidget(slot, i // COLUMNS, i % COLUMNS)
            self.slots.append(slot)
        self._place_extra()

    def set_extra(self, widget: QWidget) -> None:
        """A widget in the cell after the last side (the camera preview)."""
        self._extra = widget
        self._place_extra()

    def _place_extra(self) -> None:
        if self._extra is not None:
            self._grid.removeWidget(self._extra)
            n = len(self.slots)
            self._grid.addWidget(self._extra, n // COLUMNS, n % COLUMNS)
        rows = (len(self.slots) + (self._extra is not None) + COLUMNS - 1) // COLUMNS
        for r in range(rows):
            self._grid.setRowStretch(r, 1)
        for c in range(COLUMNS):
            self._grid.setColumnStretch(c, 1)

    def next_slot(self) -> int | None:
        return next((s.index for s in self.slots if not s.filled), None)

    @property
    def full(self) -> bool:
        return bool(self.slots) and all(s.filled for s in self.slots)

    def missing(self) -> list[str]:
        return [s.side for s in self.slots if not s.filled]

    def clear(self) -> None:
        for slot in self.slots:
            slot.clear()

    def clear_results(self) -> None:
        for slot in self.slots:
            slot.clear_result()

    def place(self, images: list[tuple], first_index: int | None = None) -> int:
        """Fill ``(name, rgb, original, preview)`` items: the first into ``first_index`` if given,
        the rest into the next empty slots in order. Returns how many did not fit."""
        queue = list(images)
        if first_index is not None and queue and first_index < len(self.slots):
            name, rgb, original, preview = queue.pop(0)
            self.slots[first_index].set_photo(rgb, original, name, preview)
        while queue and self.next_slot() is not None:
            name, rgb, original, preview = queue.pop(0)
            self.slots[self.next_slot()].set_photo(rgb, original, name, preview)
        return len(queue)

    def update_state(self, busy: bool) -> None:
        nxt = self.next_slot()
        for slot in self.slots:
            slot.retake_button.setEnabled(slot.filled and not busy)
            slot.set_next(slot.index == nxt and not busy)

    def display_fit(self) -> tuple[int, int] | None:
        """The slots' picture size: workers prepare images this large, so painting is cheap."""
        if not self.slots or not self.isVisible():
            return None  # not laid out yet: keep full size (up to MAX_DISPLAY_SIDE)
        return self.slots[0].view.display_size()
