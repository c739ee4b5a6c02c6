"""Table models over service queries.

* ``ListTableModel``: a catalogue that a service returns whole (users, warehouses, products:
  tens to hundreds of rows); ``RowFilterProxy`` (a ``QSortFilterProxyModel``) searches and sorts
  those rows for the view.
* ``PagedQueryModel``: a query too large to load (the inspections). ``rowCount`` is the service's
  count; rows are fetched a page at a time in a worker when the view first asks for them, kept
  in a bounded page cache, and sorting is passed to the service (``sort`` key) rather than done
  on loaded rows.

Threading: both models live on the GUI thread. ``PagedQueryModel`` calls its ``fetch_page`` and
``count`` callables in worker threads (``gui.workers.start_task``); they must be thread-safe,
which the services are.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, QObject, QSortFilterProxyModel, Qt, pyqtSignal

from gui.workers import TaskHandle, start_task

_ROOT = QModelIndex()          # the invisible root: the default parent in Qt's model API
ROW_ROLE = Qt.UserRole + 1      # the row object itself (a dataclass from db.dto)


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]            # what the cell shows
    sort: str | Callable[[Any], Any] | None = None   # a service sort key, or a key function
    align: int = int(Qt.AlignLeft | Qt.AlignVCenter)
    foreground: Callable[[Any], Any] | None = None   # optional QColor per row


class ListTableModel(QAbstractTableModel):
    """Rows returned whole by ``load()``; ``RowFilterProxy`` searches and sorts them for the view."""

    def __init__(self, columns: Sequence[Column], load: Callable[[], list],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._load = load
        self._rows: list = []

    def reload(self) -> None:
        """Ask the service again (after an edit, or to pick up another station's changes)."""
        self.beginResetModel()
        self._rows = list(self._load())
        self.endResetModel()

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        return _cell(self.columns[index.column()], self._rows[index.row()], role)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.DisplayRole) -> Any:
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.columns[section].title
        return None


class RowFilterProxy(QSortFilterProxyModel):
    """Qt's filter-and-sort proxy over a ``ListTableModel``: the search matches the shown text of
    every column, case-insensitively; sorting uses the column's key (``Column.sort``) or its value
    (None first, numbers numerically, text without case)."""

    def __init__(self, source: ListTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self._columns = source.columns

    def set_search(self, text: str) -> None:
        self.setFilterFixedString(text.strip())

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802
        column = self._columns[left.column()]
        key = column.sort if callable(column.sort) else (lambda r: _sortable(column.value(r)))
        return bool(key(left.data(ROW_ROLE)) < key(right.data(ROW_ROLE)))

    def row(self, index: int) -> Any:
        """The record shown in row ``index``."""
        return self.index(index, 0).data(ROW_ROLE)

    def find(self, predicate: Callable[[Any], bool]) -> int:
        """Index of the first shown row whose record matches ``predicate``; -1 if none."""
        return next((i for i in range(self.rowCount()) if predicate(self.row(i))), -1)


def _sortable(value: Any) -> tuple:
    # mixed None/str/int columns must still sort: None first, numbers numerically, text by case
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value).casefold())


def _cell(column: Column, row: Any, role: int) -> Any:
    if role == Qt.DisplayRole:
        value = column.value(row)
        return "" if value is None else str(value)
    if role == Qt.TextAlignmentRole:
        return column.align
    if role == Qt.ForegroundRole and column.foreground is not None:
        return column.foreground(row)
    if role == ROW_ROLE:
        return row
    return None


class PagedQueryModel(QAbstractTableModel):
    """``count()`` rows, fetched ``page_size`` at a time by ``fetch_page(offset, limit, sort)``.

    A row not fetched yet shows as empty and queues its page; pages are fetched newest request
    first (what is on screen now), one at a time, and at most ``max_pages`` are kept.
    ``loaded(count)`` is emitted after each (re)count.
    """

    loaded = pyqtSignal(int)
    failed = pyqtSignal(object)     # an exception from count or a page fetch

    def __init__(self, columns: Sequence[Column], count: Callable[[], int],
                 fetch_page: Callable[[int, int, str], list], *, page_size: int = 100,
                 max_pages: int = 40, default_sort: str = "-started",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._count = count
        self._fetch_page = fetch_page
        self.page_size = page_size
        self._max_pages = max_pages
        self.sort_key = default_sort
        self._total = 0
        self._pages: OrderedDict[int, list] = OrderedDict()
        self._wanted: list[int] = []
        self._task: TaskHandle | None = None
        self._count_task: TaskHandle | None = None
        self._in_flight: int | None = None
        self._generation = 0      # bumps on every reset; stale pages are dropped

    # -- data source --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Count again and forget every page (new filters, new sort, a correction)."""
        self._generation += 1
        gen = self._generation
        self.beginResetModel()
        self._pages.clear()
        self._wanted.clear()
        self._in_flight = None          # an old fetch may still run; its rows will be dropped
        self._total = 0
        self.endResetModel()
        self._count_task = start_task(self, lambda _p: self._count(), name="count",
                                      on_success=lambda n: self._counted(gen, n),
                                      on_error=self.failed.emit)

    def reload_rows(self) -> None:
        """Read the rows again but keep the view where it is (after an edit such as a
        correction): count again; if the number is unchanged only the pages are re-fetched as
        the view asks for them, otherwise the model resets."""
        self._generation += 1
        gen = self._generation
        self._count_task = start_task(self, lambda _p: self._count(), name="count",
                                      on_success=lambda n: self._recounted(gen, n),
                                      on_error=self.failed.emit)

    def _recounted(self, gen: int, total: int) -> None:
        if gen != self._generation:
            return
        if int(total) != self._total:
            self._counted(gen, total)
            return
        self._pages.clear()
        self._wanted.clear()
        self._in_flight = None
        if self._total:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._total - 1, self.columnCount() - 1))
        self.loaded.emit(self._total)

    def _counted(self, gen: int, total: int) -> None:
        if gen != self._generation:
            return
        self.beginResetModel()
        self._total = int(total)
        self.endResetModel()
        self.loaded.emit(self._total)

    @property
    def busy(self) -> bool:
        """A count or a page fetch is in flight (tests and the screenshot script wait on it)."""
        return any(t is not None and not t.done for t in (self._task, self._count_task))

    def row(self, index: int) -> Any | None:
        """The row at ``index`` if its page is loaded (else None, and the page is queued)."""
        page_no, rest = divmod(index, self.page_size)
        page = self._pages.get(page_no)
        if page is None:
            self._want(page_no)
            return None
        self._pages.move_to_end(page_no)
        return page[rest] if rest < len(page) else None

    def _want(self, page_no: int) -> None:
        if page_no == self._in_flight:
            return                      # on its way; asking again would fetch it twice
        if page_no in self._wanted:
            self._wanted.remove(page_no)
        self._wanted.append(page_no)
        self._next()

    def _next(self) -> None:
        if (self._task is not None and not self._task.done) or not self._wanted:
            return
        page_no = self._wanted.pop()        # the newest request: what the view shows now
        self._in_flight = page_no
        gen, sort, size = self._generation, self.sort_key, self.page_size
        self._task = start_task(
            self, lambda _p: self._fetch_page(page_no * size, size, sort), name="page",
            on_success=lambda rows: self._arrived(gen, page_no, rows),
            on_error=self.failed.emit, on_finished=self._page_done)

    def _page_done(self) -> None:
        self._in_flight = None
        self._next()

    def _arrived(self, gen: int, page_no: int, rows: list) -> None:
        if gen != self._generation:
            return
        self._pages[page_no] = list(rows)
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)
        first = page_no * self.page_size
        last = min(self._total, first + len(rows)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: QModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.row(index.row())
        if row is None:
            return "…" if role == Qt.DisplayRole and index.column() == 0 else None
        return _cell(self.columns[index.column()], row, role)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.DisplayRole) -> Any:
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.columns[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        key = self.columns[column].sort
        if not isinstance(key, str):
            return                      # not sortable by the service: keep the order
        self.sort_key = ("-" if order == Qt.DescendingOrder else "") + key
        self.refresh()
