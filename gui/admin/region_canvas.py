"""The Regions editor's drawing surface: a sample photo, the fixed region drawn on it with the
mouse, or the outline that automatic mode would judge.

Mouse (fixed mode only): drag on the photo draws a new rectangle or ellipse (its box); drag a
corner handle to resize it; drag inside it to move it. The region is kept as fractions of the
photo (x0, y0, x1, y1), exactly what ``common.regions.SideRegion.box`` stores, so the same
region fits a camera's photos at any resolution. Without a sample photo the surface is a plain
4:3 frame: a region can still be seen and drawn, but the admin is asked for a photo.

Threading: GUI thread only (the photo arrives as a numpy array or QImage made elsewhere).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap, QPolygonF
from PyQt5.QtWidgets import QSizePolicy, QWidget

from common.regions import MIN_FRACTION
from gui.camera import frame_to_qimage

Box = tuple[float, float, float, float]
HANDLE = 7                         # half the size of a corner handle, widget pixels
REGION_COLOUR = QColor(255, 214, 0)    # the dashed yellow of the judged region elsewhere


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))


class RegionCanvas(QWidget):
    """``changed(box)`` after every mouse edit (``box``: fractions, x0 < x1, y0 < y1)."""

    changed = pyqtSignal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self._photo: QImage | None = None
        self._pixmap: tuple[tuple[int, int], QPixmap] | None = None
        self.box: Box | None = None            # the fixed region, fractions
        self.shape = "rect"
        self.editable = False                  # fixed mode: the mouse draws
        self.outline: np.ndarray | None = None   # automatic preview, photo pixels
        self.placeholder = ""
        self._drag: tuple[str, QPointF, Box | None] | None = None   # kind, start, box before

    # ---- content ---------------------------------------------------------------------------
    def set_photo(self, image: np.ndarray | QImage | None) -> None:
        self._photo = frame_to_qimage(np.ascontiguousarray(image)) if isinstance(image, np.ndarray) \
            else image
        self._pixmap = None
        self.update()

    @property
    def photo_size(self) -> tuple[int, int] | None:
        return (self._photo.width(), self._photo.height()) if self._photo is not None else None

    def show_region(self, box: Sequence[float] | None, shape: str, editable: bool,
                    outline: np.ndarray | None = None) -> None:
        self.box = tuple(float(v) for v in box) if box is not None else None  # type: ignore[assignment]
        self.shape, self.editable, self.outline = shape, editable, outline
        self.setCursor(Qt.CrossCursor if editable else Qt.ArrowCursor)
        self.update()

    # ---- geometry ----------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the photo (or the empty 4:3 frame) lies in the widget, aspect kept, centred."""
        w, h = self.photo_size or (4, 3)
        m = 8.0
        scale = min((self.width() - 2 * m) / w, (self.height() - 2 * m) / h)
        dw, dh = w * scale, h * scale
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def to_fraction(self, pos: QPointF) -> tuple[float, float]:
        r = self.image_rect()
        return _clamp((pos.x() - r.left()) / r.width()), _clamp((pos.y() - r.top()) / r.height())

    def to_widget(self, fx: float, fy: float) -> QPointF:
        r = self.image_rect()
        return QPointF(r.left() + fx * r.width(), r.top() + fy * r.height())

    def box_rect(self) -> QRectF | None:
        if self.box is None:
            return None
        return QRectF(self.to_widget(*self.box[:2]), self.to_widget(*self.box[2:]))

    def _corners(self) -> dict[str, QPointF]:
        r = self.box_rect()
        if r is None:
            return {}
        return {"tl": r.topLeft(), "tr": r.topRight(), "bl": r.bottomLeft(), "br": r.bottomRight()}

    def _hit(self, pos: QPointF) -> str:
        for name, p in self._corners().items():
            if abs(p.x() - pos.x()) <= HANDLE + 2 and abs(p.y() - pos.y()) <= HANDLE + 2:
                return name
        r = self.box_rect()
        return "move" if r is not None and r.contains(pos) else "new"

    # ---- mouse -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        if not self.editable or event.button() != Qt.LeftButton:
            return
        pos = QPointF(event.pos())
        self._drag = (self._hit(pos), pos, self.box)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        pos = QPointF(event.pos())
        if self._drag is None:
            if self.editable:
                self.setCursor(_CURSORS[self._hit(pos)])
            return
        self.box = self._dragged(pos, *self._drag)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        if self._drag is None:
            return
        drag, self._drag = self._drag, None
        box: Box | None = self._dragged(QPointF(event.pos()), *drag)
        if box is not None and (box[2] - box[0] < MIN_FRACTION or box[3] - box[1] < MIN_FRACTION):
            box = drag[2]    # a click or a slip, not a region: keep what was there
        self.box = box
        self.update()
        if box is not None:
            self.changed.emit(box)

    def _dragged(self, pos: QPointF, kind: str, start: QPointF, before: Box | None) -> Box:
        fx, fy = self.to_fraction(pos)
        if kind == "new" or before is None:
            sx, sy = self.to_fraction(start)
            return min(sx, fx), min(sy, fy), max(sx, fx), max(sy, fy)
        x0, y0, x1, y1 = before
        if kind == "move":
            sx, sy = self.to_fraction(start)
            dx = min(max(fx - sx, -x0), 1.0 - x1)
            dy = min(max(fy - sy, -y0), 1.0 - y1)
            return x0 + dx, y0 + dy, x1 + dx, y1 + dy
        # a corner handle: the opposite corner stays where it is
        ax = x1 if kind in ("tl", "bl") else x0
        ay = y1 if kind in ("tl", "tr") else y0
        return min(ax, fx), min(ay, fy), max(ax, fx), max(ay, fy)

    # ---- painting ----------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        painter.fillRect(self.rect(), QColor(30, 30, 30))
        target = self.image_rect()
        if self._photo is not None:
            size = (max(1, round(target.width())), max(1, round(target.height())))
            if self._pixmap is None or self._pixmap[0] != size:
                self._pixmap = (size, QPixmap.fromImage(self._photo).scaled(
                    *size, Qt.IgnoreAspectRatio, Qt.SmoothTransformation))
            painter.drawPixmap(target.topLeft(), self._pixmap[1])
        else:
            painter.fillRect(target, QColor(70, 70, 70))
        if self.placeholder:
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(target.adjusted(12, 12, -12, -12), Qt.AlignCenter | Qt.TextWordWrap,
                             self.placeholder)
        painter.setRenderHint(QPainter.Antialiasing)
        if self.outline is not None and len(self.outline) >= 3 and self._photo is not None:
            sx, sy = target.width() / self._photo.width(), target.height() / self._photo.height()
            self._dashed(painter, lambda p: p.drawPolygon(QPolygonF(
                [QPointF(target.left() + x * sx, target.top() + y * sy) for x, y in self.outline])))
        r = self.box_rect()
        if r is None:
            return
        self._dashed(painter, lambda p: p.drawEllipse(r) if self.shape == "ellipse" else p.drawRect(r))
        if self.editable:
            painter.setPen(QPen(QColor(0, 0, 0), 1))
            painter.setBrush(REGION_COLOUR)
            for c in self._corners().values():
                painter.drawRect(QRectF(c.x() - HANDLE, c.y() - HANDLE, 2 * HANDLE, 2 * HANDLE))
            painter.setBrush(Qt.NoBrush)

    @staticmethod
    def _dashed(painter: QPainter, draw) -> None:
        painter.setPen(QPen(QColor(0, 0, 0, 160), 4))
        draw(painter)
        painter.setPen(QPen(REGION_COLOUR, 2, Qt.DashLine))
        draw(painter)


_CURSORS = {"new": Qt.CrossCursor, "move": Qt.SizeAllCursor, "tl": Qt.SizeFDiagCursor,
            "br": Qt.SizeFDiagCursor, "tr": Qt.SizeBDiagCursor, "bl": Qt.SizeBDiagCursor}
