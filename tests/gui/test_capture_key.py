"""Inspect again on an unchanged can records nothing new and says "already saved as #N" (issue 9
item 3, the GUI side): the real inference worker, a real tiny model, a real station."""
from __future__ import annotations

from PyQt5.QtCore import Qt

from tests.gui.test_capture_inspect import fill_with_cans, register


def _saved_id(capture) -> int:
    return int(capture.status.text().split("#")[1].rstrip("."))


def test_inspect_again_on_an_unchanged_can_is_already_saved(qtbot, panel, world,
                                                            tiny_model, tmp_path):
    register(world, tiny_model)
    panel.product_bar.refresh()
    fill_with_cans(qtbot, panel, tmp_path)
    key = panel.capture_key
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #") and not panel.busy,
                    timeout=60000)
    first = _saved_id(panel)
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)      # the same photos again
    qtbot.waitUntil(lambda: panel.status.text().startswith("Already saved as #")
                    and not panel.busy, timeout=60000)
    assert _saved_id(panel) == first and panel.capture_key == key
    assert world.station.inspections.count(world.admin) == 1
    # A retake makes it another can: a new key and a new record.
    panel.retake(0)
    assert panel.capture_key != key
    handle = panel.import_files([str(p) for p in sorted((tmp_path / "cans" / "good")
                                                         .glob("*.png"))[:1]])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #") and not panel.busy,
                    timeout=60000)
    assert _saved_id(panel) != first
    assert world.station.inspections.count(world.admin) == 2
    assert world.station.inspections.get(world.admin, first).capture_key == key
