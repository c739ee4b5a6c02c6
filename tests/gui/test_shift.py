"""A shift, scripted as people would drive it (issue 11): an operator captures and inspects two
cans with the keyboard, a supervisor corrects one and writes the shift report, an admin deletes
one with a reason and reads it back in the audit log. Every step through the real windows,
sign-in dialogs, a real model, a real database; the records are checked at the end."""
from __future__ import annotations

import csv
from pathlib import Path

from pypdf import PdfReader
from PyQt5 import sip
from PyQt5.QtCore import Qt

from db import NotFound
from gui.app import SessionFlow
from gui.main_window import MainWindow
from tests.gui.conftest import PASSWORD
from tests.gui.test_capture_inspect import register
from tests.helpers import make_synthetic_cans


def _sign_in(qtbot, flow: SessionFlow, name: str) -> MainWindow:
    dialog = flow.dialog
    qtbot.keyClicks(dialog.username, name)
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(flow.window_opened, timeout=10000):
        qtbot.keyClick(dialog.password, Qt.Key_Return)
    return flow.window


def _row_of(qtbot, gallery, inspection_id: int) -> int:
    """The gallery row of ``inspection_id`` among its two rows, once their page has arrived (the
    count comes first: rowCount can be 2 while the rows are still on their way)."""
    model = gallery.model
    qtbot.waitUntil(lambda: not gallery.busy and model.rowCount() == 2, timeout=20000)
    qtbot.waitUntil(lambda: all(model.row(r) is not None for r in range(2)), timeout=20000)
    return next(r for r in range(2) if model.row(r).id == inspection_id)


def _switch(qtbot, flow: SessionFlow, window: MainWindow, name: str) -> MainWindow:
    qtbot.mouseClick(window.switch_button, Qt.LeftButton)
    return _sign_in(qtbot, flow, name)


def _inspect_a_can(qtbot, panel, files: list[Path]) -> int:
    handle = panel.import_files([str(p) for p in files])
    qtbot.waitUntil(lambda: handle.done and not panel.busy, timeout=20000)
    assert all(s.filled for s in panel.slots)
    qtbot.keyClick(panel, Qt.Key_Return)                      # Enter inspects
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=60000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    return int(panel.status.text().split("#")[1].rstrip("."))


def test_a_shift(qtbot, world, inference, tiny_model, tmp_path):
    st = world.station
    register(world, tiny_model)
    st.products.update(world.admin, world.product_id, thresholds={"review": 0.0, "reject": 0.5})
    data = make_synthetic_cans(tmp_path / "cans", n_good=7, n_defect=2, size=128, seed=5)
    good = sorted((data / "good").glob("*.png"))
    bad = sorted((data / "defect").glob("*.png"))
    flow = SessionFlow(world.settings, st, inference, world.log_path)
    flow.start()
    try:
        # -- the operator: two cans, keyboard first -------------------------------------------
        window = _sign_in(qtbot, flow, "otto")
        capture = window.show_panel("capture")
        first = _inspect_a_can(qtbot, capture, good[:7])
        qtbot.keyClick(capture, Qt.Key_N)                     # N: a new can
        assert not any(s.filled for s in capture.slots)
        second = _inspect_a_can(qtbot, capture, good[:5] + bad[:2])
        assert capture._result.verdict.value == "reject" and capture.alert.fired >= 1
        mine = window.show_panel("my_inspections")
        qtbot.waitUntil(lambda: not mine.busy and mine.model.rowCount() == 2, timeout=20000)

        # -- the supervisor: a correction and the shift report -------------------------------
        window = _switch(qtbot, flow, window, "sue")
        gallery = window.show_panel("gallery")
        row = _row_of(qtbot, gallery, second)
        detail = gallery.open_detail(gallery.model.index(row, 0))
        qtbot.waitUntil(lambda: detail.detail is not None and not detail.busy, timeout=20000)
        box = detail.corrections
        box.can_verdict.setCurrentIndex(box.can_verdict.findData("review"))
        qtbot.keyClicks(box.note, "dent too small to matter?")
        with qtbot.waitSignal(detail.corrected, timeout=10000):
            qtbot.mouseClick(box.can_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not detail.busy, timeout=10000)
        detail.close()
        stats = window.show_panel("stats")
        qtbot.waitUntil(lambda: not stats.busy, timeout=20000)
        task = stats.shift_report(folder=tmp_path / "reports")
        qtbot.waitUntil(lambda: task.done, timeout=60000)
        report = stats.last_report
        assert report is not None, stats.summary.text()

        # -- the admin: delete the first can with a reason, read the audit log ----------------
        window = _switch(qtbot, flow, window, "admin")
        gallery = window.show_panel("gallery")
        row = _row_of(qtbot, gallery, first)
        detail = gallery.open_detail(gallery.model.index(row, 0))
        qtbot.waitUntil(lambda: detail.detail is not None, timeout=20000)
        ask = detail.ask_delete()
        qtbot.waitUntil(lambda: ask.preview is not None, timeout=10000)
        qtbot.keyClicks(ask.reason, "trial can of the new line")
        qtbot.keyClick(ask.reason, Qt.Key_Return)
        qtbot.waitUntil(lambda: sip.isdeleted(detail) or not detail.isVisible(), timeout=20000)
        audit = window.show_panel("audit")
        qtbot.waitUntil(lambda: not audit.busy, timeout=20000)
        audit.what.setCurrentIndex(audit.what.findData("inspection.delete"))
        qtbot.waitUntil(lambda: not audit.busy and audit.total == 1, timeout=20000)
        assert "trial can of the new line" in audit.model.index(0, 4).data()
        export = tmp_path / "audit.csv"
        audit.what.setCurrentIndex(0)
        qtbot.waitUntil(lambda: not audit.busy, timeout=20000)
        job = audit.export_csv(export)
        qtbot.waitUntil(lambda: job.done, timeout=20000)
        window.close()
    finally:
        flow.shutdown()

    # -- the records at the end ---------------------------------------------------------------
    a = world.admin
    try:
        st.inspections.get(a, first)
        raise AssertionError("the deleted can is still recorded")
    except NotFound:
        pass
    kept = st.inspections.get(a, second)
    assert (kept.machine_verdict, kept.corrected_verdict, kept.verdict) == (
        "reject", "review", "review")
    assert kept.operator_name == "otto" and len(kept.sides) == 7
    assert all(s.image_path.is_file() for s in kept.sides)
    fixes = st.corrections.list_for_inspection(a, second)
    assert [(c.username, c.value, c.note) for c in fixes] == [
        ("sue", "review", "dent too small to matter?")]
    actions = [(e.username, e.action) for e in reversed(st.audit.list(a, limit=1000))]
    for who, what in (("otto", "auth.sign_in"), ("sue", "auth.sign_in"),
                      ("admin", "auth.sign_in"), ("sue", "correction.can"),
                      ("admin", "inspection.delete")):
        assert (who, what) in actions, (who, what)
    deleted = st.audit.list(a, action="inspection.delete")[0]
    assert deleted.details["reason"] == "trial can of the new line"
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert {"auth.sign_in", "correction.can", "inspection.delete"} <= {r["action"] for r in rows}
    # the shift report was written before the deletion: both cans, the correction, all three
    pdf = PdfReader(str(report.path))
    first_page = pdf.pages[0].extract_text()
    assert report.cans == 2 and "Cans inspected: 2" in first_page
    assert "reject → review" in first_page and "dent too small" in first_page
    for name in ("otto", "sue"):
        assert name in first_page
    assert len(pdf.pages) == 2 + report.rejected
