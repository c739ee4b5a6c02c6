"""A form that renders a detector kind's options from the catalogue (``core.detectors.catalogue``):
a spin box per number, a check box per yes/no, a line per text or list. Nothing here knows a
detector: a new kind's options appear by themselves.

Threading: GUI thread only.
"""
from __future__ import annotations

from typing import Any

from PyQt5.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from core.detectors.catalogue import Option

_INT_LIMIT = 2**31 - 1


class OptionForm(QWidget):
    """``set_options(options)`` builds the rows; ``values()`` reads them back, converted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._fields: dict[str, tuple[Option, QWidget]] = {}

    def set_options(self, options: tuple[Option, ...]) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._fields = {}
        for opt in options:
            widget = self._widget_for(opt)
            widget.setObjectName(f"option_{opt.name}")
            widget.setToolTip(opt.help)
            self._form.addRow(opt.name.replace("_", " ").capitalize(), widget)
            self._fields[opt.name] = (opt, widget)

    def labels(self) -> list[QWidget]:
        """The rows' labels (a dialog that holds this form aligns its own labels with them)."""
        return [w for name in self._fields if (w := self._form.labelForField(self._fields[name][1]))]

    def field(self, name: str) -> QWidget:
        return self._fields[name][1]

    def values(self) -> dict[str, Any]:
        """Every option's value as its type (``OptionInvalid`` for a list that does not parse)."""
        out: dict[str, Any] = {}
        for name, (opt, widget) in self._fields.items():
            if isinstance(widget, QCheckBox):
                out[name] = widget.isChecked()
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                out[name] = opt.convert(widget.value())
            else:
                assert isinstance(widget, QLineEdit)
                out[name] = opt.convert(widget.text())
        return out

    def _widget_for(self, opt: Option) -> QWidget:
        if opt.type is bool and not opt.many:
            box = QCheckBox(self)
            box.setChecked(bool(opt.default))
            return box
        if opt.type is int and not opt.many:
            spin = QSpinBox(self)
            spin.setRange(int(opt.minimum if opt.minimum is not None else -_INT_LIMIT),
                          int(opt.maximum if opt.maximum is not None else _INT_LIMIT))
            spin.setValue(int(opt.default))
            return spin
        if opt.type is float and not opt.many:
            dspin = QDoubleSpinBox(self)
            dspin.setDecimals(4)
            dspin.setRange(opt.minimum if opt.minimum is not None else -1e9,
                           opt.maximum if opt.maximum is not None else 1e9)
            dspin.setSingleStep(max(abs(float(opt.default)) / 10, 1e-4))
            dspin.setValue(float(opt.default))
            return dspin
        line = QLineEdit(self)
        line.setText(", ".join(map(str, opt.default)) if opt.many else str(opt.default))
        return line
