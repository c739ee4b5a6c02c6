"""Marking a defect on a side's photo with a brush (or importing a mask), for segdec training.

The mask has the photo's size: 8-bit grey, 255 where the defect is (what ``DATA_DIR/masks/`` holds
and ``core.detectors.segdec.masks.read_mask`` reads). Left button paints, right button erases; the
brush's radius is in photo pixels. ``mask_png()`` is the PNG the correction stores with the side
(``station.corrections.correct_side(..., mask=...)``), None while nothing is marked. A coarse mark
is enough: segdec weights a mask's pixels by their distance from the defect's centre.

Threading: GUI thread only; no database, no torch.
"""
from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.forms import fitted

MARK = QColor(255, 40, 40, 110)   # how a marked pixel is tinted on the photo


def rgb_image(photo: np.ndarray) -> QImage:
    """An RGB uint8 HxWx3 array as a QImage that owns its pixels."""
    photo = np.ascontiguousarray(photo[..., :3])
    h, w = photo.shape[:2]
    return QImage(photo.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class MaskCanvas(QWidget):
    """The photo with the mask drawn over it; paints into the mask with the mouse."""

    changed = pyqtSignal()

    def __init__(self, photo: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskCanvas")
        self.photo = rgb_image(photo)
        self.mask = QImage(self.photo.size(), QImage.Format_Grayscale8)
        self.mask.fill(0)
        self.radius = max(2, round(0.02 * max(self.photo.width(), self.photo.height())))
        self._last: QPointF | None = None
        self.setMinimumSize(320, 240)
        self.setMouseTracking(False)

    # -- geometry: widget <-> photo --------------------------------------------------------------
    def _frame(self) -> QRectF:
        """Where the photo is drawn (fitted, centred)."""
        pw, ph = self.photo.width(), self.photo.height()
        scale = min(self.width() / pw, self.height() / ph)
        w, h = pw * scale, ph * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_photo(self, point: QPoint | QPointF) -> QPointF:
        f = self._frame()
        return QPointF((point.x() - f.x()) * self.photo.width() / f.width(),
                       (point.y() - f.y()) * self.photo.height() / f.height())

    # -- painting the mask -----------------------------------------------------------------------
    def stroke(self, a: QPointF, b: QPointF, erase: bool = False) -> None:
        """A brush stroke from ``a`` to ``b`` (photo pixels)."""
        painter = QPainter(self.mask)
        painter.setRenderHint(QPainter.Antialiasing, False)
        colour = QColor(0, 0, 0) if erase else QColor(255, 255, 255)
        pen = painter.pen()
        pen.setColor(colour)
        pen.setWidthF(2.0 * self.radius)
        pen.setCapStyle(Qt.RoundCap)
        painter.setPen(pen)
        if a == b:
            painter.setBrush(colour)
            painter.drawEllipse(a, float(self.radius), float(self.radius))
        else:
            painter.drawLine(a, b)
        painter.end()
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        self.mask.fill(0)
        self.update()
        self.changed.emit()

    def set_mask(self, image: QImage) -> None:
        """An imported mask: any image, turned grey, resized to the photo, defect > 127."""
        grey = image.convertToFormat(QImage.Format_Grayscale8).scaled(
            self.photo.size(), Qt.IgnoreAspectRatio, Qt.FastTransformation)
        values = self._array(grey)
        self.mask = self._image((values > 127).astype(np.uint8) * 255)
        self.update()
        self.changed.emit()

    def marked(self) -> np.ndarray:
        """bool HxW: the marked photo pixels."""
        return self._array(self.mask) > 127

    @staticmethod
    def _array(image: QImage) -> np.ndarray:
        ptr = image.constBits()
        ptr.setsize(image.bytesPerLine() * image.height())
        rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
        return rows[:, :image.width()].copy()

    @staticmethod
    def _image(values: np.ndarray) -> QImage:
        values = np.ascontiguousarray(values, np.uint8)
        h, w = values.shape
        return QImage(values.data, w, h, w, QImage.Format_Grayscale8).copy()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        if self._last is not None and event.buttons() & (Qt.LeftButton | Qt.RightButton):
            here = self.to_photo(event.pos())
            self.stroke(self._last, here, erase=bool(event.buttons() & Qt.RightButton))
            self._last = here

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        if event.button() in (Qt.LeftButton, Qt.RightButton):
            self._last = self.to_photo(event.pos())
            self.stroke(self._last, self._last, erase=event.button() == Qt.RightButton)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        self._last = None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        frame = self._frame()
        painter.drawImage(frame, self.photo)
        tint = QImage(self.mask.size(), QImage.Format_ARGB32_Premultiplied)
        tint.fill(MARK)
        tint.setAlphaChannel(self._image((self.marked() * MARK.alpha()).astype(np.uint8)))
        painter.drawImage(frame, tint)
        painter.end()


class MaskDialog(QDialog):
    """Mark the defect on one side's photo; ``mask_png()`` after it is accepted."""

    def __init__(self, photo: np.ndarray, side_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskDialog")
        self.setWindowTitle(f"Mark the defect{' on ' + side_name if side_name else ''}")
        col = QVBoxLayout(self)
        hint = QLabel("Paint over the defect with the left button; the right button erases. A rough "
                      "mark is enough. The mask is saved with the side's correction (Anomaly).",
                      objectName="hint")
        hint.setWordWrap(True)
        col.addWidget(hint)
        self.canvas = MaskCanvas(photo, self)
        col.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush radius (photo pixels)"))
        self.radius = QSpinBox(objectName="brushRadius")
        self.radius.setRange(1, max(2, max(photo.shape[:2]) // 4))
        self.radius.setValue(self.canvas.radius)
        self.radius.valueChanged.connect(lambda v: setattr(self.canvas, "radius", int(v)))
        row.addWidget(self.radius)
        clear = QPushButton("Clear", objectName="clearMask")
        clear.clicked.connect(self.canvas.clear)
        load = QPushButton("Import…", objectName="importMask")
        load.clicked.connect(self.import_mask)
        row.addWidget(clear)
        row.addWidget(load)
        row.addStretch(1)
        self.status = QLabel(objectName="maskStatus")
        row.addWidget(self.status)
        col.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        col.addWidget(self.buttons)
        self.canvas.changed.connect(self._update_status)
        self._update_status()
        self.resize(fitted(self, QSize(900, 700)))

    def _update_status(self) -> None:
        share = float(self.canvas.marked().mean())
        self.status.setText(f"{share:.1%} of the photo marked" if share else "nothing marked yet")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(share > 0)

    def import_mask(self, path: str | None = None) -> bool:
        """A mask from an image file (defect > 127); False when it cannot be read."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import a mask", "", "Images (*.png *.bmp *.jpg)")
            if not path:
                return False
        image = QImage(path)
        if image.isNull():
            self.status.setText(f"{path} is not an image this station can read.")
            return False
        self.canvas.set_mask(image)
        return True

    def mask_png(self) -> bytes | None:
        """The mask as PNG bytes (photo size, 0 / 255), None when nothing is marked."""
        if not self.canvas.marked().any():
            return None
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.WriteOnly)
        self.canvas.mask.save(buffer, "PNG")
        buffer.close()
        return bytes(data)
