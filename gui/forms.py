"""Form rows whose validation errors appear beside (under) the field they belong to.

The services raise ``ValidationError(field, message)`` (and ``Conflict(message, field=...)``);
``FieldErrors.show_exception`` puts the message in red under the input named ``field`` and marks
the input, or in the form's general error line when the field is not on this form.

Threading: GUI thread only.
"""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QSize
from PyQt5.QtWidgets import QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from db.errors import Conflict, ValidationError
from gui.errors import error_text


class FieldErrors:
    """The error labels of one form, keyed by the service's field names."""

    def __init__(self, general: QLabel, log_path: Path) -> None:
        self.general = general
        self.general.setObjectName("errorLabel")
        self.general.setWordWrap(True)
        self.general.hide()
        self._log_path = log_path
        self._labels: dict[str, QLabel] = {}
        self._inputs: dict[str, QWidget] = {}

    def add_row(self, form: QFormLayout, caption: str, field: str, widget: QWidget) -> QLabel:
        """Add ``widget`` to ``form`` with a hidden red label under it; returns that label."""
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(widget)
        label = QLabel(objectName="fieldError")
        label.setWordWrap(True)
        label.hide()
        col.addWidget(label)
        form.addRow(caption, box)
        self._labels[field] = label
        self._inputs[field] = widget
        self._watch(field, widget)
        return label

    def _watch(self, field: str, widget: QWidget) -> None:
        """Editing a field takes its error away: "This cannot be empty" under a field the person
        has since filled is a message about the past."""
        def hide(*_args: object) -> None:
            self.hide_error(field)
        editors = [widget] + widget.findChildren(QWidget)
        for w in editors:
            for name in ("textEdited", "textChanged", "currentIndexChanged", "valueChanged",
                         "dateChanged", "toggled"):
                signal = getattr(w, name, None)
                if signal is not None and hasattr(signal, "connect"):
                    signal.connect(hide)
                    break

    def hide_error(self, field: str) -> None:
        label = self._labels.get(field)
        if label is not None and label.isVisible():
            label.clear()
            label.hide()
            self._mark(self._inputs[field], False)

    def label(self, field: str) -> QLabel:
        return self._labels[field]

    def clear(self) -> None:
        for field, label in self._labels.items():
            label.clear()
            label.hide()
            self._mark(self._inputs[field], False)
        self.general.clear()
        self.general.hide()

    def show(self, field: str | None, message: str) -> None:
        """Show ``message`` under ``field`` (or in the general line if the form lacks it)."""
        label = self._labels.get(field or "")
        if label is None:
            self.general.setText(message)
            self.general.show()
            return
        label.setText(message)
        label.show()
        self._mark(self._inputs[field], True)  # type: ignore[index]
        self._inputs[field].setFocus()  # type: ignore[index]

    def show_exception(self, exc: BaseException, context: str = "") -> None:
        """Place a service error where it belongs; unexpected ones are logged (see gui.errors)."""
        if isinstance(exc, ValidationError):
            self.show(exc.field, exc.message)
        elif isinstance(exc, Conflict):
            self.show(exc.field, str(exc))
        else:
            self.show(None, error_text(exc, self._log_path, context))

    @staticmethod
    def _mark(widget: QWidget, invalid: bool) -> None:
        widget.setProperty("invalid", invalid)
        # a dynamic property only restyles after the style is re-applied
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def keep_default(accept: QPushButton, *others: QPushButton) -> None:
    """Make ``accept`` the dialog's one default button, for good.

    Qt's "auto default" buttons become the default while they have the focus; when the accept
    button is disabled during a save, the focus moves on to Cancel, which then took Enter for
    itself and threw the typed form away at the next Enter. Without auto-default nothing moves.
    """
    for button in (accept, *others):
        button.setAutoDefault(False)
    accept.setDefault(True)


def fitted(dialog: QWidget, wanted: QSize) -> QSize:
    """``wanted``, or less: inside the window it opens over (else the screen's free area), so a
    1024×640 screen shows the whole dialog."""
    parent = dialog.parentWidget()
    room = parent.window().size() if parent is not None else (
        dialog.screen().availableGeometry().size() if dialog.screen() else wanted)
    return QSize(min(wanted.width(), room.width() - 24), min(wanted.height(), room.height() - 24))
