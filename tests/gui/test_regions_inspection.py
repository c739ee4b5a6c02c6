"""Inspection with the product's regions, from the capture panel through the REAL inference
worker and a real tiny model to the record: a fixed region judges that shape and nothing
outside it; a photo with no can goes to review and says so, on the slot, the banner and the
saved record."""
from __future__ import annotations

import cv2
import numpy as np
from PyQt5.QtCore import Qt

from common.regions import RegionRecipe, SideRegion
from core.regions.apply import fixed_outline
from core.results import Outcome
from db import Role
from gui.gallery.detail_dialog import DetailDialog
from tests.gui.test_capture_inspect import fill_with_cans, register

ELLIPSE = SideRegion("fixed", "ellipse", (0.15, 0.05, 0.85, 0.95))


def inspect_and_save(qtbot, panel) -> int:
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=90000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    return int(panel.status.text().split("#")[1].rstrip("."))


def bounds(points) -> np.ndarray:
    p = np.asarray(points)
    return np.concatenate([p.min(axis=0), p.max(axis=0)])


def test_a_fixed_region_on_the_product_is_what_each_side_judges(qtbot, panel, world, tiny_model,
                                                                tmp_path, make_ctx):
    register(world, tiny_model)
    world.station.products.update(world.admin, world.product_id,
                                  region_recipe=RegionRecipe(ELLIPSE).to_json())
    panel.product_bar.refresh()
    fill_with_cans(qtbot, panel, tmp_path)
    saved = world.station.inspections.get(world.admin, inspect_and_save(qtbot, panel))

    expected = bounds(fixed_outline(ELLIPSE, 128, 128))
    for slot, side, record in zip(panel.slots, panel._result.sides, saved.sides):
        assert side.region is not None and side.reason == ""
        assert np.abs(bounds(side.region) - expected).max() <= 2, side.side
        inside = np.zeros(side.heatmap.shape, np.uint8)
        cv2.fillPoly(inside, [side.region.reshape(-1, 1, 2)], 1)
        assert not side.heatmap[inside == 0].any()          # nothing judged outside the ellipse
        assert slot.view.outline == tuple(map(tuple, side.region.tolist()))   # drawn on the slot
        assert record.region == side.region.tolist()        # and kept in the record

    # the gallery's detail draws the recorded region on each side
    dialog = DetailDialog(make_ctx(Role.SUPERVISOR), saved.id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=20000)
    dialog.strip.setCurrentRow(3)
    assert dialog.view.outline == tuple(map(tuple, saved.sides[3].region))
    dialog.close()


def test_a_photo_with_no_can_goes_to_review_with_the_reason_shown(qtbot, panel, world, tiny_model,
                                                                  tmp_path):
    register(world, tiny_model)
    world.station.products.update(world.admin, world.product_id,
                                  region_recipe=RegionRecipe(SideRegion("auto")).to_json())
    panel.product_bar.refresh()
    fill_with_cans(qtbot, panel, tmp_path)
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((128, 128, 3), 128, np.uint8))
    panel.retake(0)
    handle = panel.import_files([str(grey)])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    saved = world.station.inspections.get(world.admin, inspect_and_save(qtbot, panel))

    side, slot = panel._result.sides[0], panel.slots[0]
    assert side.reason.startswith("no can found") and side.region is None
    assert side.outcome.severity >= Outcome.REVIEW.severity and panel._result.verdict != Outcome.PASS
    assert slot.status.text().endswith(" · no can found")
    assert side.reason in slot.status.toolTip().lower()
    assert f"{side.side}: no can found" in panel.banner.text()
    assert saved.sides[0].reason == side.reason and saved.sides[0].region is None
    assert saved.machine_verdict != "pass"
