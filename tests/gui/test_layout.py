"""The window on a 1366×768 and a 1024×640 screen (issue 11 item 9): it opens within the
screen's free area, and no panel needs scrolling at either size."""
from __future__ import annotations

import pytest
from PyQt5.QtCore import QSize

from db import Role
from gui.main_window import MainWindow, fitted_size
from gui.theme import apply_style

SIZES = (QSize(1366, 768), QSize(1024, 640))


def test_the_window_fits_the_free_area_of_the_screen():
    assert fitted_size(QSize(1366, 728)) == QSize(1366, 688)   # a 768 screen less a task bar
    assert fitted_size(QSize(1920, 1040)) == QSize(1366, 768)
    assert fitted_size(QSize(1024, 600)) == QSize(1024, 560)


_KEPT: list[MainWindow] = []


@pytest.fixture
def station_style(qapp):
    """The look run_gui gives the application (font size, style sheet): sizes depend on it.
    Put back afterwards so the other tests see the plain application."""
    font, sheet, style = qapp.font(), qapp.styleSheet(), qapp.style().objectName()
    apply_style(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setFont(font)
    qapp.setStyle(style)


@pytest.fixture
def windows():
    """Keeps each window alive to the end of the session: qtbot holds widgets weakly, and a
    window the garbage collector frees while Qt still paints it crashes the process."""
    made: list[MainWindow] = []
    yield made
    for window in made:
        window.close()
    _KEPT.extend(made)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
@pytest.mark.parametrize("role", list(Role))
def test_no_panel_scrolls(qtbot, make_ctx, station_style, windows, role, size):
    window = MainWindow(make_ctx(role))
    windows.append(window)
    qtbot.addWidget(window)
    window.resize(size)
    window.show()
    qtbot.waitExposed(window)
    hint = window.minimumSizeHint()
    assert hint.width() <= size.width() and window.width() == size.width(), (
        f"the {role.value}'s window needs {hint.width()} px")
    for spec in window.specs:
        panel = window.show_panel(spec.key)
        qtbot.wait(50)
        qtbot.waitUntil(lambda panel=panel: not getattr(panel, "busy", False), timeout=20000)
        qtbot.wait(50)
        holder = window.stack.currentWidget()
        h, v = holder.horizontalScrollBar(), holder.verticalScrollBar()
        assert (h.maximum(), v.maximum()) == (0, 0), (
            f"{spec.title} at {size.width()}×{size.height()} scrolls: needs "
            f"{panel.minimumSizeHint().width()}×{panel.minimumSizeHint().height()}, has "
            f"{holder.viewport().width()}×{holder.viewport().height()}")


def test_the_dialogs_fit_a_1024_by_640_window(qtbot, make_ctx, station_style, windows, world):
    from datetime import datetime, timezone

    import numpy as np

    from gui.admin.product_dialog import ProductDialog
    from gui.admin.regions_dialog import RegionsDialog
    from gui.admin.warehouse_dialog import WarehouseDialog
    from gui.gallery.delete_dialog import DeleteDialog
    from gui.gallery.detail_dialog import DetailDialog
    from gui.gallery.mask_dialog import MaskDialog
    from gui.models.build_dialog import BuildDialog
    from gui.password_dialog import ChangePasswordDialog
    from gui.settings_dialog import SettingsDialog
    from tests.gui.conftest import record_inspection

    can = record_inspection(world, world.operator, "reject",
                            started=datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    window = MainWindow(make_ctx(Role.ADMIN))
    windows.append(window)
    window.resize(QSize(1024, 640))
    window.show()
    ctx, st, a = window.ctx, world.station, world.admin
    made = [DetailDialog(ctx, can, window), DeleteDialog(ctx, "one can", ids=[can], parent=window),
            ChangePasswordDialog(ctx, parent=window), SettingsDialog(ctx, window),
            WarehouseDialog(ctx, None, window),
            ProductDialog(ctx, st.products.get(a, world.product_id), st.warehouses.list(a), [],
                          window),
            RegionsDialog(ctx, st.products.get(a, world.product_id), window),
            MaskDialog(np.zeros((480, 640, 3), np.uint8), "Lid", window),
            BuildDialog(st.products.list(a), window)]
    for dialog in made:
        dialog.show()
        qtbot.waitUntil(lambda dialog=dialog: not getattr(dialog, "busy", False), timeout=10000)
        qtbot.wait(50)
        size = dialog.frameGeometry().size()
        assert size.width() <= 1024 and size.height() <= 640, (type(dialog).__name__, size)
        dialog.close()
