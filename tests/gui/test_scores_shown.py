"""What a slot and the can's detail show of a side's score (issue 11 item 6)."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from app.scores import where
from core.results import Outcome, SideResult
from core.scoring.calibration import Thresholds
from db import Role
from gui.capture.slot import SlotWidget
from gui.gallery.detail_dialog import DetailDialog
from tests.gui.conftest import record_inspection


def _side(outcome: Outcome, score: float, boxes=()) -> SideResult:
    heat = np.zeros((64, 64), np.float32)
    heat[40:50, 10:30] = 0.42
    return SideResult("Body 288°", score, "Anomaly", outcome, heat, list(boxes),
                      np.full((64, 64, 3), 120, np.uint8))


_KEEP: list[SlotWidget] = []


@pytest.fixture(autouse=True)
def _keep_slots():
    """qtbot holds widgets weakly: a parentless slot that the garbage collector frees while Qt
    paints it crashes the process, so the test keeps them until it ends."""
    yield
    for slot in _KEEP:
        slot.close()
        slot.deleteLater()
    _KEEP.clear()


def _slot(qtbot) -> SlotWidget:
    slot = SlotWidget(0, "Body 288°")
    qtbot.addWidget(slot)
    _KEEP.append(slot)
    slot.resize(170, 240)                 # a slot's size on a 1366×768 screen
    slot.show()
    return slot


def test_a_reject_without_boxes_is_marked_and_readable(qtbot):
    slot = _slot(qtbot)
    side = _side(Outcome.REJECT, 0.61)
    slot.set_photo(side.image)
    marks = where("reject", side.boxes, side.heatmap)
    slot.set_result(side, Thresholds(0.4, 0.55), marks)
    from gui.widgets.image_view import prepare_result
    slot.show_prepared(prepare_result(side.image, side.heatmap, marks.boxes))
    assert slot.status.text() == "REJECT · 61"
    # the caption fits the slot: nothing is cut off
    assert slot.status.fontMetrics().horizontalAdvance(slot.status.text()) <= slot.status.width()
    assert [(b.x0, b.y0, b.x1, b.y1) for b in slot.view.boxes] == [(10, 40, 30, 50)]
    assert "review from 40, reject from 55" in slot.status.toolTip()
    assert "hottest spot" in slot.status.toolTip()
    assert (slot.score_bar.score, slot.score_bar.review, slot.score_bar.reject) == (61, 40, 55)


def test_negative_scores_read_as_zero(qtbot):
    slot = _slot(qtbot)
    side = _side(Outcome.PASS, -0.7)
    slot.set_photo(side.image)
    slot.set_result(side, Thresholds(0.5, 0.5), where("pass", [], side.heatmap))
    assert slot.status.text() == "PASS · 0" and "-" not in slot.status.toolTip()


def test_a_region_with_its_reason_is_outlined(qtbot):
    slot = _slot(qtbot)
    side = _side(Outcome.REVIEW, 0.45)
    slot.set_photo(side.image)
    marks = where("review", [], side.heatmap, [[2, 2], [60, 2], [60, 60], [2, 60]],
                  "no can found")
    slot.set_result(side, Thresholds(0.4, 0.55), marks)
    from gui.widgets.image_view import prepare_result
    slot.show_prepared(prepare_result(side.image, side.heatmap, marks.boxes))
    assert slot.status.text() == "REVIEW · 45 · no can found"
    assert slot.view.outline == ((2, 2), (60, 2), (60, 60), (2, 60))


def test_detail_shows_words_the_0_100_score_the_thresholds_and_where(qtbot, make_ctx, world):
    st = world.station
    model = st.models.register(world.admin, "default", "models/default", "cam", "lite0", "1", {},
                               {"review": 0.4, "reject": 0.55}, {})
    st.models.activate_for_product(world.admin, model.id, world.product_id)
    i = record_inspection(world, world.operator, "reject",
                          started=datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    dialog = DetailDialog(make_ctx(Role.SUPERVISOR), i)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=10000)
    dialog.strip.setCurrentRow(2)                     # the defective side of record_inspection
    text = dialog.side_info.text()
    assert "Reject: defect found" in text and "<b>90</b> of 100" in text
    assert "review from 40, reject from 55" in text
    assert "1 defect region boxed" in text
    assert (dialog.score_bar.score, dialog.score_bar.review, dialog.score_bar.reject) == (
        90, 40, 55)
    assert dialog.strip.item(2).text().endswith("· 90")
    dialog.close()
