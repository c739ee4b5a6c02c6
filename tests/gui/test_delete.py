"""Deleting inspections as an admin (issue 11 item 1): the filtered set from the gallery, or one
can from its detail; counts of cans and files first, a reason kept in the audit log."""
from __future__ import annotations

import re

import pytest
from PyQt5 import sip
from PyQt5.QtCore import Qt

from db import NotFound, Role
from gui.table_models import ROW_ROLE
from tests.gui.test_gallery import _panel, _settle


def _counted(qtbot, dialog) -> None:
    qtbot.waitUntil(lambda: dialog.preview is not None and not dialog.busy, timeout=5000)


def test_admin_deletes_the_filtered_set_with_a_reason(qtbot, make_ctx, world, cans):
    st = world.station
    rejected = [i for i in cans if st.inspections.get(world.admin, i).verdict == "reject"]
    files = {p for i in rejected for s in st.inspections.get(world.admin, i).sides
             for p in (s.image_path, s.heatmap_path)}
    others = {p for i in set(cans) - set(rejected)
              for s in st.inspections.get(world.admin, i).sides
              for p in (s.image_path, s.heatmap_path)}
    panel = _panel(qtbot, make_ctx, Role.ADMIN)
    panel.filters.verdict.setCurrentIndex(panel.filters.verdict.findData("reject"))
    _settle(qtbot, panel)
    assert panel.delete_button.isVisible()
    dialog = panel.delete_shown()
    _counted(qtbot, dialog)
    assert "verdict Reject" in dialog.findChild(type(dialog.counts), "hint").text()
    text = re.sub("<[^>]+>", "", dialog.counts.text())
    assert "2 inspections (cans)" in text
    # the thumbnails are copies of a photo; the pass sides' heatmaps are shared with other cans
    assert f"{len(files - others)} files" in text
    assert not dialog.delete_button.isEnabled()             # no reason yet
    qtbot.keyClicks(dialog.reason, "trial cans")
    assert dialog.delete_button.isEnabled() and dialog.delete_button.isDefault()
    qtbot.keyClick(dialog.reason, Qt.Key_Return)            # Enter confirms, as the default
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=10000)
    _settle(qtbot, panel)
    assert dialog.result_.cans == 2
    assert panel.model.rowCount() == 0                       # the filter still asks for rejects
    assert "Deleted 2 inspections" in panel.status.text()
    assert st.inspections.count(world.admin) == 4
    assert not any(p.exists() for p in files - others)
    assert all(p.exists() for p in others)
    events = st.audit.list(world.admin, action="inspection.delete")
    assert sorted(int(e.target.split(":")[1]) for e in events) == sorted(rejected)
    assert {e.details["reason"] for e in events} == {"trial cans"}


def test_cancel_deletes_nothing(qtbot, make_ctx, world, cans):
    panel = _panel(qtbot, make_ctx, Role.ADMIN)
    dialog = panel.delete_shown()
    _counted(qtbot, dialog)
    assert "6 inspections" in dialog.counts.text()
    assert "no filter" in dialog.findChild(type(dialog.counts), "hint").text()
    qtbot.keyClicks(dialog.reason, "oops")
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert world.station.inspections.count(world.admin) == 6


def test_one_can_from_its_detail(qtbot, make_ctx, world, cans):
    panel = _panel(qtbot, make_ctx, Role.ADMIN)
    qtbot.waitUntil(lambda: panel.model.index(0, 0).data(ROW_ROLE) is not None, timeout=5000)
    detail = panel.open_detail(panel.model.index(0, 0))
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10000)
    victim = detail.inspection_id
    assert detail.delete_button.isVisible()
    dialog = detail.ask_delete()
    _counted(qtbot, dialog)
    assert dialog.preview.ids == (victim,) and "1 inspection (cans)" in dialog.counts.text()
    qtbot.keyClicks(dialog.reason, "photographed the wrong can")
    qtbot.mouseClick(dialog.delete_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: sip.isdeleted(detail) or not detail.isVisible(), timeout=10000)
    _settle(qtbot, panel)
    try:
        world.station.inspections.get(world.admin, victim)
        raise AssertionError("the can is still there")
    except NotFound:
        pass
    assert panel.model.rowCount() == 5


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.OPERATOR])
def test_only_admins_get_delete(qtbot, make_ctx, cans, role):
    panel = _panel(qtbot, make_ctx, role)
    assert not panel.delete_button.isVisible()
    qtbot.waitUntil(lambda: panel.model.index(0, 0).data(ROW_ROLE) is not None, timeout=5000)
    detail = panel.open_detail(panel.model.index(0, 0))
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10000)
    assert not detail.delete_button.isVisible()
    detail.close()
