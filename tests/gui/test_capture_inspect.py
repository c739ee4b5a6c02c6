"""Inspection from the capture panel through the REAL inference worker and a real tiny model:
verdicts on the slots, the banner, the record saved in the database; and the worker's error path."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
from PyQt5.QtCore import Qt

from app.scores import score_100
from core.model.spec import read_spec
from core.results import Outcome
from db import Role
from gui.capture.panel import CapturePanel
from gui.theme import OUTCOME_COLOURS
from tests.gui.test_capture import write_photos
from tests.helpers import make_synthetic_cans


def register(world, folder, name="tiny") -> int:
    spec = read_spec(folder)
    info = world.station.models.register(
        world.admin, name, str(folder), spec.kind, spec.backbone, spec.version, spec.metrics,
        spec.thresholds.to_dict(), spec.trained_on)
    world.station.models.activate_for_product(world.admin, info.id, world.product_id)
    return info.id


def fill_with_cans(qtbot, panel, tmp_path) -> None:
    data = make_synthetic_cans(tmp_path / "cans", n_good=5, n_defect=2, size=128, seed=3)
    files = sorted((data / "good").glob("*.png")) + sorted((data / "defect").glob("*.png"))
    handle = panel.import_files([str(p) for p in files])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert all(s.filled for s in panel.slots)


def test_inspection_shows_verdicts_and_banner_and_saves_the_can(qtbot, panel, world, tiny_model,
                                                                  tmp_path):
    register(world, tiny_model)
    panel.product_bar.refresh()
    assert panel.product_bar.has_model
    fill_with_cans(qtbot, panel, tmp_path)
    assert panel.inspect_button.isEnabled()
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    assert panel.busy and not panel.capture_button.isEnabled()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=60000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)  # heatmaps are coloured in a worker

    result = panel._result
    assert panel.banner.kind == "verdict" and panel.banner.verdict == result.verdict
    assert result.verdict.value.upper() in panel.banner.text()
    for slot, side in zip(panel.slots, result.sides):
        assert slot.result is side
        assert slot.border_colour == OUTCOME_COLOURS[side.outcome]
        # the outcome in words and the score on the one 0-100 scale, never a raw -0.7
        assert slot.status.text().startswith(f"{side.outcome.value.upper()} · "
                                             f"{score_100(side.score)}")
        assert not slot.score_bar.isHidden() and slot.score_bar.score == score_100(side.score)
        assert slot.view.has_heatmap()
    assert panel.progress.value() == panel.progress.maximum()

    saved_id = int(panel.status.text().split("#")[1].rstrip("."))
    info = world.station.inspections.get(world.admin, saved_id)
    assert info.machine_verdict == result.verdict.value
    assert [s.side_name for s in info.sides] == [s.side for s in result.sides]
    # imported files are stored as they were: same bytes, no second compression
    assert info.sides[0].image_path.read_bytes() == panel.slots[0].original.data
    assert info.sides[0].heatmap_path is not None and info.thumbnail_path is not None
    assert info.operator_name == "otto"

    # the next capture or import starts a new can
    handle = panel.import_files([str(write_photos(tmp_path / "next", 1)[0])])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert [s.filled for s in panel.slots] == [True] + [False] * 6
    assert panel.banner.kind == "idle"


def test_a_broken_model_is_a_message_and_the_next_can_still_works(qtbot, panel, world, tiny_model,
                                                                  tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "weights.safetensors").write_bytes(b"\x00" * 64)
    register(world, broken, name="broken")
    panel.product_bar.refresh()
    # the early load already tells the operator
    qtbot.waitUntil(lambda: "cannot be used" in panel.product_bar.model_label.text(), timeout=30000)
    fill_with_cans(qtbot, panel, tmp_path)
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.banner.kind == "error", timeout=30000)
    assert "cannot be used" in panel.banner.text()
    assert not panel.busy and all(s.filled for s in panel.slots)  # photos kept
    assert world.station.inspections.count(world.admin) == 0

    register(world, tiny_model, name="good")  # an admin fixes it; the same worker carries on
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=60000)
    assert panel.banner.kind == "verdict"
    assert world.station.inspections.count(world.admin) == 1


def test_product_thresholds_override_the_models(qtbot, panel, world, tiny_model, tmp_path):
    register(world, tiny_model)
    world.station.products.update(world.admin, world.product_id,
                                  thresholds={"review": 0.0, "reject": 1.0})
    panel.product_bar.refresh()
    fill_with_cans(qtbot, panel, tmp_path)
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel._result is not None, timeout=60000)
    scores = np.array([s.score for s in panel._result.sides])
    expected = [Outcome.REJECT if s >= 1 else Outcome.REVIEW if s >= 0 else Outcome.PASS
                for s in scores]
    assert [s.outcome for s in panel._result.sides] == expected
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)


class FlakyInspections:
    """The station's inspections service, failing the first record like a busy database."""

    def __init__(self, real) -> None:
        self._real, self.calls = real, 0

    def record(self, actor, new):
        from db.errors import DatabaseBusy

        self.calls += 1
        if self.calls == 1:
            raise DatabaseBusy("The database is busy; try again in a moment.")
        return self._real.record(actor, new)


class StationWithFlakyInspections:
    def __init__(self, station) -> None:
        self._station = station
        self.inspections = FlakyInspections(station.inspections)

    def __getattr__(self, name):
        return getattr(self._station, name)


def test_a_failed_save_keeps_the_can_until_saved_again(qtbot, make_ctx, inference, world,
                                                      tiny_model, tmp_path):
    register(world, tiny_model)
    ctx = make_ctx(Role.OPERATOR, inference=inference)
    panel = CapturePanel(replace(ctx, station=StationWithFlakyInspections(world.station)))
    qtbot.addWidget(panel)
    fill_with_cans(qtbot, panel, tmp_path)
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Not saved") and not panel.busy,
                    timeout=60000)
    assert "busy" in panel.status.text() and not panel.save_again_button.isHidden()
    assert world.station.inspections.count(world.admin) == 0
    # the next import must not silently drop the unsaved can
    handle = panel.import_files([str(write_photos(tmp_path / "next", 1)[0])])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert "not saved" in panel.status.text() and panel.banner.kind == "verdict"
    qtbot.mouseClick(panel.save_again_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=30000)
    assert world.station.inspections.count(world.admin) == 1
    assert panel.save_again_button.isHidden()
    panel.shutdown()
