"""The Regions… editor of the Products panel: the recipe's round trip product -> database ->
editor -> database, drawing rectangles and ellipses with the mouse, the locator's outline on a
sample photo, and clear messages for files that are no photo."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtTest import QTest

from common.regions import RegionRecipe, SideRegion
from core.regions.apply import fixed_outline
from db import Role
from gui.admin.products_panel import ProductsPanel

LID = SideRegion("fixed", "ellipse", (0.2, 0.1, 0.8, 0.9))


def open_editor(qtbot, make_ctx, world):
    panel = ProductsPanel(make_ctx(Role.ADMIN))
    qtbot.addWidget(panel)
    panel.show()
    panel.select_where(lambda p: p.id == world.product_id)
    dialog = panel.edit_regions()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return panel, dialog


def drag(canvas, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A left-button drag between two points given as fractions of the photo."""
    a, b = (canvas.to_widget(*start).toPoint(), canvas.to_widget(*end).toPoint())
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, a)
    for t in (0.3, 0.6, 1.0):
        QTest.mouseMove(canvas, QPoint(round(a.x() + t * (b.x() - a.x())),
                                       round(a.y() + t * (b.y() - a.y()))))
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, b)


def photo(tmp_path, name="sample.png", can=True):
    img = np.full((300, 400, 3), 128, np.uint8)
    if can:   # a ribbed, printed can on a plain wall: edges the locator finds
        img[:] = (150, 140, 120)
        cv2.rectangle(img, (140, 40), (260, 270), (200, 200, 205), -1)
        for y in range(50, 265, 9):
            cv2.line(img, (140, y), (260, y), (90, 90, 100), 2)
        cv2.rectangle(img, (140, 120), (260, 190), (200, 40, 40), -1)
    path = tmp_path / name
    cv2.imwrite(str(path), img[:, :, ::-1])
    return path


def test_recipe_round_trip_product_database_editor_database(qtbot, make_ctx, world):
    st, sides = world.station, world.station.products.get(world.admin, world.product_id).side_names
    start = RegionRecipe(SideRegion(), {sides[0]: LID, sides[6]: SideRegion("whole")})
    st.products.update(world.admin, world.product_id, region_recipe=start.to_json())
    panel, dialog = open_editor(qtbot, make_ctx, world)
    # what the database holds is what the editor shows, side by side
    assert dialog.regions == {s: start.for_side(s) for s in sides}
    assert dialog.modes.checkedButton().objectName() == "mode_fixed"
    assert dialog.shape.currentData() == "ellipse" and dialog.canvas.box == LID.box
    dialog.sides.setCurrentRow(6)
    assert dialog.modes.checkedButton().objectName() == "mode_whole"
    assert "Whole photo" in dialog.sides.item(6).text()

    dialog.sides.setCurrentRow(2)                                   # automatic -> a drawn rectangle
    dialog.modes.button(1).click()
    assert dialog.shape.isEnabled() and dialog.canvas.editable
    drag(dialog.canvas, (0.05, 0.05), (0.7, 0.75))                  # outside the first box: new
    with qtbot.waitSignal(dialog.saved, timeout=20000):
        qtbot.mouseClick(dialog.save_button, Qt.LeftButton)

    stored = RegionRecipe.from_json(st.products.get(world.admin, world.product_id).region_recipe)
    assert stored.for_side(sides[0]) == LID and stored.for_side(sides[6]) == SideRegion("whole")
    drawn = stored.for_side(sides[2])
    assert drawn.mode == "fixed" and drawn.shape == "rect"
    assert np.allclose(drawn.box, (0.05, 0.05, 0.7, 0.75), atol=0.01)
    assert stored.for_side(sides[1]) == SideRegion()
    # audited as any product edit
    events = [e for e in st.audit.list(world.admin) if e.action == "product.update"]
    assert events and "region_recipe" in events[0].details

    # and read back by a new editor: the same choices
    _, again = open_editor(qtbot, make_ctx, world)
    assert again.regions == {s: stored.for_side(s) for s in sides}
    again.reject()


def test_drawing_handles_and_shape_switch_give_the_expected_fractions(qtbot, make_ctx, world,
                                                                      tmp_path):
    _, dialog = open_editor(qtbot, make_ctx, world)
    task = dialog.load_sample(str(photo(tmp_path)))
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    assert dialog.canvas.photo_size == (400, 300)
    qtbot.waitUntil(lambda: dialog.canvas.outline is not None, timeout=20000)   # the can, found
    dialog.modes.button(1).click()                                  # fixed, starting on the can
    drag(dialog.canvas, (0.95, 0.05), (0.1, 0.7))                   # outside it: a new one
    region = dialog.regions[dialog.side]
    assert region.shape == "rect" and np.allclose(region.box, (0.1, 0.05, 0.95, 0.7), atol=0.01)
    drag(dialog.canvas, (0.95, 0.7), (0.9, 0.8))                    # the bottom-right handle
    assert np.allclose(dialog.regions[dialog.side].box, (0.1, 0.05, 0.9, 0.8), atol=0.01)
    drag(dialog.canvas, (0.5, 0.5), (0.55, 0.6))                    # inside: moved
    assert np.allclose(dialog.regions[dialog.side].box, (0.15, 0.15, 0.95, 0.9), atol=0.01)
    dialog.shape.setCurrentIndex(dialog.shape.findData("ellipse"))
    region = dialog.regions[dialog.side]
    assert region.shape == "ellipse" and np.allclose(region.box, (0.15, 0.15, 0.95, 0.9), atol=0.01)
    # on the photo, the ellipse spans the expected pixels
    outline = fixed_outline(region, 400, 300)
    assert np.allclose(outline.min(axis=0), (60, 45), atol=5)
    assert np.allclose(outline.max(axis=0), (380, 270), atol=5)
    drag(dialog.canvas, (0.05, 0.05), (0.055, 0.05))                # a slip of the mouse: kept
    assert dialog.regions[dialog.side] == region
    dialog.use_for_all()
    assert set(dialog.regions.values()) == {region}
    dialog.reject()


def test_automatic_shows_the_located_can_or_why_not(qtbot, make_ctx, world, tmp_path):
    _, dialog = open_editor(qtbot, make_ctx, world)
    assert "Load a sample photo" in dialog.message.text()
    task = dialog.load_sample(str(photo(tmp_path)))
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    qtbot.waitUntil(lambda: dialog.canvas.outline is not None, timeout=20000)
    xs, ys = dialog.canvas.outline[:, 0], dialog.canvas.outline[:, 1]
    assert 120 <= xs.min() <= 160 and 240 <= xs.max() <= 280      # the can, not the wall
    assert "what would be judged" in dialog.message.text()
    dialog.modes.button(1).click()                                   # fixed starts on the can
    assert np.allclose(dialog.regions[dialog.side].box,
                       (xs.min() / 400, ys.min() / 300, (xs.max() + 1) / 400, (ys.max() + 1) / 300))

    dialog.sides.setCurrentRow(1)
    task = dialog.load_sample(str(photo(tmp_path, "grey.png", can=False)))
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    qtbot.waitUntil(lambda: "no can found" in dialog.message.text(), timeout=20000)
    assert "goes to review" in dialog.message.text() and dialog.canvas.outline is None
    dialog.reject()


@pytest.mark.parametrize("content", [b"not a photo at all", b""])
def test_a_file_that_is_no_photo_is_a_clear_message(qtbot, make_ctx, world, tmp_path, content):
    _, dialog = open_editor(qtbot, make_ctx, world)
    bad = tmp_path / "broken.png"
    bad.write_bytes(content)
    task = dialog.load_sample(str(bad))
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    qtbot.waitUntil(lambda: "broken.png" in dialog.message.text(), timeout=5000)
    assert "Something went wrong" not in dialog.message.text()
    assert dialog.canvas.photo_size is None
    dialog.reject()
