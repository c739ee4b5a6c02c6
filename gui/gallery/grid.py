"""The gallery grid: a paged model of inspections and a delegate painting each as a card
(thumbnail, verdict badge, product, time, operator).

Threading: GUI thread only; pages come through ``PagedQueryModel``'s workers, thumbnails
through ``ThumbnailCache``'s.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QModelIndex, QObject, QRect, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QPainter, QPen
from PyQt5.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from db.dto import InspectionRow
from gui.gallery.thumbnails import ThumbnailCache
from gui.table_models import ROW_ROLE, Column, PagedQueryModel
from gui.theme import (
    CARD_BORDER_COLOUR,
    CARD_COLOUR,
    MUTED_TEXT_COLOUR,
    NEUTRAL_COLOUR,
    PLACEHOLDER_COLOUR,
    SELECTED_COLOUR,
    TEXT_COLOUR,
    VERDICT_COLOURS,
    VERDICT_FOREGROUND,
    VERDICT_TEXT,
)

THUMB = QSize(168, 126)
CARD = QSize(188, 206)


def local_time(row: InspectionRow) -> str:
    return row.started.astimezone().strftime("%Y-%m-%d %H:%M:%S")


# The gallery's columns double as its sort choices (service sort keys).
COLUMNS = (
    Column("Time", local_time, sort="started"),
    Column("Verdict", lambda r: VERDICT_TEXT.get(r.verdict, r.verdict), sort="verdict"),
    Column("Product", lambda r: r.product_sku, sort="product"),
    Column("Warehouse", lambda r: r.warehouse_name, sort="warehouse"),
    Column("Operator", lambda r: r.operator_name, sort="operator"),
)


def configure_grid(view: QListView) -> None:
    """Cards in rows that wrap, in *list* mode: icon mode lays out and indexes every item
    (seconds for 100 000 cans); list mode with uniform sizes computes positions arithmetically."""
    view.setViewMode(QListView.ListMode)
    view.setFlow(QListView.LeftToRight)
    view.setWrapping(True)
    view.setResizeMode(QListView.Adjust)
    view.setMovement(QListView.Static)
    view.setUniformItemSizes(True)
    view.setGridSize(CARD)
    view.setSpacing(0)
    view.setVerticalScrollMode(QListView.ScrollPerPixel)
    view.verticalScrollBar().setSingleStep(40)


class GalleryModel(PagedQueryModel):
    """Inspections matching the panel's filter; DecorationRole is the thumbnail (or None)."""

    def __init__(self, count: Callable[[], int], fetch_page: Callable[[int, int, str], list],
                 thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(COLUMNS, count, fetch_page, page_size=120, max_pages=60, parent=parent)
        self.thumbnails = thumbnails
        self._rows_by_path: dict[Any, int] = {}
        thumbnails.ready.connect(self._thumbnail_ready)
        self.modelReset.connect(self._rows_by_path.clear)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if role == Qt.DecorationRole and index.isValid():
            row = self.row(index.row())
            if row is None or row.thumbnail_path is None:
                return None
            self._rows_by_path[row.thumbnail_path] = index.row()
            return self.thumbnails.get(row.thumbnail_path)
        if role == Qt.ToolTipRole and index.isValid():
            row = self.row(index.row())
            if row is not None:
                return (f"Inspection {row.id}: {row.product_sku} {row.product_name}\n"
                        f"{local_time(row)} by {row.operator_name} at {row.station_name}\n"
                        f"Machine: {row.machine_verdict}"
                        + (f", corrected: {row.corrected_verdict}" if row.corrected_verdict else ""))
        return super().data(index, role)

    def _thumbnail_ready(self, path: object) -> None:
        row = self._rows_by_path.get(path)
        if row is not None and row < self.rowCount():
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.DecorationRole])


class CardDelegate(QStyledItemDelegate):
    """Paints one inspection: thumbnail, verdict badge, SKU and time."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return CARD

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row: InspectionRow | None = index.data(ROW_ROLE)
        painter.save()
        r = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.State_Selected)
        painter.setPen(QPen(QColor(SELECTED_COLOUR if selected else CARD_BORDER_COLOUR), 3 if selected else 1))
        painter.setBrush(QColor(CARD_COLOUR))
        painter.drawRoundedRect(r, 6, 6)
        thumb_rect = QRect(r.left() + (r.width() - THUMB.width()) // 2, r.top() + 6,
                           THUMB.width(), THUMB.height())
        pixmap = index.data(Qt.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.scaled(THUMB, Qt.KeepAspectRatio, Qt.FastTransformation) \
                if pixmap.size() != THUMB else pixmap
            x = thumb_rect.left() + (THUMB.width() - scaled.width()) // 2
            y = thumb_rect.top() + (THUMB.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
        else:
            painter.fillRect(thumb_rect, QColor(PLACEHOLDER_COLOUR))
        if row is None:
            painter.setPen(QColor(NEUTRAL_COLOUR))
            painter.drawText(r, Qt.AlignCenter, "Loading…")
            painter.restore()
            return
        self._badge(painter, thumb_rect, row)
        painter.setPen(QColor(TEXT_COLOUR))
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        text_rect = QRect(r.left() + 8, thumb_rect.bottom() + 6, r.width() - 16, 22)
        painter.drawText(text_rect, Qt.AlignLeft | Qt.AlignVCenter,
                         painter.fontMetrics().elidedText(row.product_sku, Qt.ElideRight,
                                                          text_rect.width()))
        font.setBold(False)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        painter.setPen(QColor(MUTED_TEXT_COLOUR))
        painter.drawText(text_rect.translated(0, 22), Qt.AlignLeft | Qt.AlignVCenter,
                         f"{row.started.astimezone():%d %b %H:%M} · {row.operator_name}")
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, thumb: QRect, row: InspectionRow) -> None:
        text = VERDICT_TEXT.get(row.verdict, row.verdict.upper())
        if row.corrected_verdict:
            text += " ✎"         # corrected by a supervisor
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.8))
        painter.setFont(font)
        w = painter.fontMetrics().horizontalAdvance(text) + 14
        badge = QRect(thumb.right() - w - 4, thumb.top() + 4, w, 22)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(VERDICT_COLOURS.get(row.verdict, NEUTRAL_COLOUR)))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor(VERDICT_FOREGROUND.get(row.verdict, CARD_COLOUR)))
        painter.drawText(badge, Qt.AlignCenter, text)
