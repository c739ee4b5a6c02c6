"""A photo with an optional heatmap overlay and defect boxes, scaled to fit; and the controls
(overlay on/off, opacity) that drive one or several such views.

Threading rule: GUI thread only. Inputs are numpy arrays or QImages (safe to make on any thread);
QPixmaps are built here, on the GUI thread, and cached until the image or the size changes.

The heatmap is coloured on a fixed scale, not stretched per image: 0 → blue, 0.5 (the box / decision
level) → the middle of the map, ≥ 1 → red, so the same colour means the same score on every side and
every can (colours from ``core.scoring.overlay``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PyQt5.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QPolygonF
from PyQt5.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

from core.images.shrink import shrink
from core.results import Box
from core.scoring.overlay import heat_colours
from gui.camera import frame_to_qimage

DEFAULT_OPACITY = 0.45
# Photos are shown at most this large: a 12 MP import would cost ~100 ms per repaint on the GUI
# thread at full size, and no panel shows it bigger than this anyway.
MAX_DISPLAY_SIDE = 1600


def _shrink(array: np.ndarray, interpolation: int = cv2.INTER_AREA,
            fit: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """``array`` scaled to fit ``fit`` (w, h) or, without it, MAX_DISPLAY_SIDE; and the factor."""
    return shrink(array, MAX_DISPLAY_SIDE, interpolation, fit)


@dataclass(frozen=True)
class PreparedResult:
    """Display-ready images of one side: make them off the GUI thread with ``prepare_result``."""

    photo: QImage
    heat: QImage | None
    boxes: tuple[Box, ...]
    box_scale: float          # image pixels → ``photo`` pixels


def prepare_result(image: np.ndarray, heatmap: np.ndarray | None,
                   boxes: Iterable[Box] = (), fit: tuple[int, int] | None = None,
                   outline: Sequence[tuple[int, int]] | None = None) -> PreparedResult:
    """Shrink, colour and convert a side's photo and heatmap; any thread (numpy and QImage only).

    Colouring seven 640x640 heatmaps costs ~50 ms, and smooth-scaling them to the views' size on the
    first paint as much again: a worker does both (``fit`` = the view's size in device pixels), so
    the GUI thread only paints. ``outline``: the judged region (image pixels); the heat is drawn
    inside it only, so the backdrop that was never judged keeps its own colours.
    """
    small, factor = _shrink(np.asarray(image), fit=fit)
    photo = frame_to_qimage(small)
    heat = None
    if heatmap is not None:
        size = (photo.width(), photo.height())
        hm = np.asarray(heatmap, np.float32)
        if hm.shape[::-1] != size:
            hm = cv2.resize(hm, size, interpolation=cv2.INTER_LINEAR)
        colours = heat_colours(hm)
        if outline is not None and len(outline) >= 3:
            inside = np.zeros(hm.shape, np.uint8)
            points = np.round(np.asarray(outline, np.float64) * factor).astype(np.int32)
            cv2.fillPoly(inside, [points.reshape(-1, 1, 2)], 255)
            heat = _rgba_qimage(colours, inside)
        else:
            heat = frame_to_qimage(colours)
    return PreparedResult(photo, heat, tuple(boxes), factor)


def _rgba_qimage(rgb: np.ndarray, alpha: np.ndarray) -> QImage:
    """An RGBA QImage owning its pixels: ``rgb`` where ``alpha`` is 255, see-through where 0."""
    rgba = np.ascontiguousarray(np.dstack([rgb, alpha]), dtype=np.uint8)
    h, w = alpha.shape
    return QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()


class ImageView(QWidget):
    """Paints ``image`` (RGB numpy or QImage) scaled to fit, then the heatmap, then the boxes."""

    def display_size(self) -> tuple[int, int]:
        """The size in device pixels that a ``prepare_result(fit=...)`` should aim at."""
        ratio = self.devicePixelRatioF()
        return max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio))

    def __init__(self, parent: QWidget | None = None, placeholder: str = "") -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(80, 80)
        self._photo: QImage | None = None
        self._heat: QImage | None = None
        self._boxes: list[Box] = []
        self._outline: tuple[tuple[int, int], ...] = ()   # the judged region, image pixels
        self._box_scale = 1.0        # image pixels → displayed photo pixels
        self._pix_cache: tuple[QSize, QPixmap, QPixmap | None] | None = None
        self.overlay_visible = True
        self.opacity = DEFAULT_OPACITY
        self.placeholder = placeholder

    # ---- content ---------------------------------------------------------------------------
    def set_image(self, image: np.ndarray | QImage | None) -> None:
        """Show a photo without a result (a captured slot, a preview frame)."""
        self._photo, _ = self._as_qimage(image)
        self._heat, self._boxes, self._outline = None, [], ()
        self._changed()

    def set_result(self, image: np.ndarray, heatmap: np.ndarray | None,
                   boxes: Iterable[Box] = ()) -> None:
        """Show a photo with its normalised heatmap (HxW, 0.5 = box level) and boxes.

        Colours the heatmap here, on the GUI thread (a few ms per 640x640 side); for many sides at
        once, build ``prepare_result`` in a worker and call ``set_prepared``.
        """
        self.set_prepared(prepare_result(image, heatmap, boxes))

    def set_prepared(self, prepared: PreparedResult,
                     outline: Sequence[tuple[int, int]] | None = None) -> None:
        """``outline``: the judged region's outline in image pixels, drawn dashed."""
        self._photo, self._heat = prepared.photo, prepared.heat
        self._boxes, self._box_scale = list(prepared.boxes), prepared.box_scale
        self._outline = tuple(outline or ())
        self._changed()

    @property
    def outline(self) -> tuple[tuple[int, int], ...]:
        return self._outline

    def clear(self) -> None:
        self.set_image(None)

    def has_image(self) -> bool:
        return self._photo is not None

    def has_heatmap(self) -> bool:
        return self._heat is not None

    @property
    def boxes(self) -> list[Box]:
        return list(self._boxes)

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = bool(visible)
        self.update()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = float(min(1.0, max(0.0, opacity)))
        self.update()

    # ---- painting --------------------------------------------------------------------------
    @staticmethod
    def _as_qimage(image: np.ndarray | QImage | None) -> tuple[QImage | None, float]:
        if image is None or isinstance(image, QImage):
            return image, 1.0
        small, factor = _shrink(np.asarray(image))
        return frame_to_qimage(small), factor

    def _changed(self) -> None:
        self._pix_cache = None
        self.update()

    def image_rect(self) -> QRectF:
        """Where the photo is drawn, in widget coordinates (kept aspect ratio, centred)."""
        if self._photo is None:
            return QRectF()
        w, h = self._photo.width(), self._photo.height()
        scale = min(self.width() / w, self.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def _pixmaps(self, size: QSize) -> tuple[QPixmap, QPixmap | None]:
        # Scaling a 1280x720 photo per paint costs ~5 ms; keep one scaled copy per widget size.
        if self._pix_cache is None or self._pix_cache[0] != size:
            photo = QPixmap.fromImage(self._photo).scaled(size, Qt.IgnoreAspectRatio,
                                                          Qt.SmoothTransformation)
            heat = None
            if self._heat is not None:
                heat = QPixmap.fromImage(self._heat).scaled(size, Qt.IgnoreAspectRatio,
                                                            Qt.SmoothTransformation)
            self._pix_cache = (size, photo, heat)
        return self._pix_cache[1], self._pix_cache[2]

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()  # explicit: a lingering Python reference must not keep it active

    def _paint(self, painter: QPainter) -> None:
        painter.fillRect(self.rect(), QColor(30, 30, 30))
        if self._photo is None or self._photo.isNull():
            if self.placeholder:
                painter.setPen(QColor(170, 170, 170))
                painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self.placeholder)
            return
        target = self.image_rect()
        size = QSize(max(1, round(target.width())), max(1, round(target.height())))
        photo, heat = self._pixmaps(size)
        painter.drawPixmap(target.topLeft(), photo)
        if self.overlay_visible and heat is not None:
            painter.setOpacity(self.opacity)
            painter.drawPixmap(target.topLeft(), heat)
            painter.setOpacity(1.0)
        if self.overlay_visible and self._outline:
            self._paint_outline(painter, target)
        if self.overlay_visible and self._boxes:
            self._paint_boxes(painter, target)

    def _paint_boxes(self, painter: QPainter, target: QRectF) -> None:
        # No number on a box: a box's peak is on the heatmap's scale, not the side's score, and
        # two numbers that disagree confused operators. The score is beside the photo.
        sx = target.width() / self._photo.width() * self._box_scale
        sy = target.height() / self._photo.height() * self._box_scale
        painter.setRenderHint(QPainter.Antialiasing)
        for box in self._boxes:
            rect = QRectF(target.left() + box.x0 * sx, target.top() + box.y0 * sy,
                          max(2.0, (box.x1 - box.x0) * sx), max(2.0, (box.y1 - box.y0) * sy))
            painter.setPen(QPen(QColor(0, 0, 0, 160), 4))
            painter.drawRect(rect)
            painter.setPen(QPen(QColor(255, 40, 40), 2))
            painter.drawRect(rect)

    def _paint_outline(self, painter: QPainter, target: QRectF) -> None:
        sx = target.width() / self._photo.width() * self._box_scale
        sy = target.height() / self._photo.height() * self._box_scale
        polygon = QPolygonF([QPointF(target.left() + x * sx, target.top() + y * sy)
                             for x, y in self._outline])
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 4))
        painter.drawPolygon(polygon)
        painter.setPen(QPen(QColor(255, 214, 0), 2, Qt.DashLine))
        painter.drawPolygon(polygon)


class OverlayControls(QWidget):
    """"Heatmap" check box and an opacity slider; drives every bound ``ImageView`` live."""

    visibilityChanged = pyqtSignal(bool)  # noqa: N815  (Qt signals are camelCase)
    opacityChanged = pyqtSignal(float)  # noqa: N815  (Qt signals are camelCase)

    def __init__(self, parent: QWidget | None = None, views: Sequence[ImageView] = ()) -> None:
        super().__init__(parent)
        self._views: list[ImageView] = []
        self.toggle = QCheckBox("Heatmap", self)
        self.toggle.setObjectName("heatmapToggle")
        self.toggle.setChecked(True)
        self.slider = QSlider(Qt.Horizontal, self)
        self.slider.setObjectName("heatmapOpacity")
        self.slider.setRange(0, 100)
        self.slider.setValue(round(DEFAULT_OPACITY * 100))
        self.slider.setToolTip("Heatmap opacity")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(QLabel("Opacity", self))
        layout.addWidget(self.slider, 1)
        self.toggle.toggled.connect(self._on_toggle)
        self.slider.valueChanged.connect(self._on_slider)
        for view in views:
            self.bind(view)

    def bind(self, view: ImageView) -> None:
        self._views.append(view)
        view.set_overlay_visible(self.toggle.isChecked())
        view.set_opacity(self.slider.value() / 100)

    def _on_toggle(self, on: bool) -> None:
        self.slider.setEnabled(on)
        for view in self._views:
            view.set_overlay_visible(on)
        self.visibilityChanged.emit(on)

    def _on_slider(self, value: int) -> None:
        for view in self._views:
            view.set_opacity(value / 100)
        self.opacityChanged.emit(value / 100)
