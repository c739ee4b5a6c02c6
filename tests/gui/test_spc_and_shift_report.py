"""Statistics after the trial (issue 11 items 8, 13, 14): rates never above 100 %, sides only for
one product, the control charts, and the one-click shift report."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from core.sides import DEFAULT_SIDE_NAMES
from db import Actor, Role, Station
from gui.context import AppContext
from gui.stats_panel import StatsPanel
from tests.gui.conftest import FAST_HASHER, PASSWORD, World, record_inspection


def _panel(qtbot, make_ctx, today: date, role=Role.SUPERVISOR) -> StatsPanel:
    panel = StatsPanel(make_ctx(role), today=today)
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    _settle(qtbot, panel)
    return panel


def _settle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.busy and panel.data is not None, timeout=20000)


def test_rates_stay_within_100_percent_and_sides_need_a_product(qtbot, make_ctx, world):
    for n in range(3):                         # every can rejected: a rate of 100 %
        record_inspection(world, world.operator, "reject", seed=n,
                          started=datetime(2026, 3, 2, 9, n, tzinfo=timezone.utc))
    panel = _panel(qtbot, make_ctx, date(2026, 3, 2))
    day, _counts, product, sides, operator = panel.figure.axes
    assert day.get_ylim()[1] <= 100 and product.get_xlim()[1] <= 100
    assert operator.get_xlim()[1] <= 100
    assert "choose a product" in sides.texts[0].get_text()
    panel.choose_product(world.product_id)
    qtbot.waitUntil(lambda: not panel.busy and panel.data.product_id == world.product_id,
                    timeout=20000)
    sides = panel.figure.axes[3]
    assert {t.get_text() for t in sides.get_yticklabels()} == {
        "Lid", "Bottom", "Body 0°", "Body 72°", "Body 144°", "Body 216°", "Body 288°"}
    assert sides.get_xlim()[1] <= 100


def test_control_chart_flags_the_bad_day(qtbot, make_ctx, world):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    for day in range(12):
        bad = 8 if day == 9 else (1 if day % 3 == 0 else 0)   # day 10 of 12 goes wrong
        for n in range(8):
            record_inspection(world, world.operator, "reject" if n < bad else "pass",
                              seed=day * 10 + n,
                              started=start + timedelta(days=day, minutes=n))
    panel = _panel(qtbot, make_ctx, date(2026, 3, 12))
    panel.tabs.setCurrentWidget(panel.spc)
    assert panel.spc.chart is None                  # all products: no control limits
    panel.choose_product(world.product_id)
    qtbot.waitUntil(lambda: not panel.busy and panel.spc.chart is not None, timeout=20000)
    chart = panel.spc.chart
    assert len(chart.points) == 12 and chart.centre == (8 + 3) / 96   # days 0, 3, 6 and 9
    assert [p.label for p in chart.points if p.outside] == ["2026-03-10"]
    assert "2026-03-10" in panel.spc.signals.toPlainText() and "beyond 3 sigma" in panel.spc.signals.toPlainText()
    panel.spc.part.setCurrentIndex(panel.spc.part.findData("Body 0°"))  # the defective side
    assert panel.spc.chart.title.endswith("Body 0°")
    assert [p.label for p in panel.spc.chart.points if p.outside] == ["2026-03-10"]
    panel.spc.period.setCurrentIndex(panel.spc.period.findData("shift"))
    assert all(p.label.endswith(("Early", "Late", "Night")) for p in panel.spc.chart.points)
    panel.canvas.draw()
    panel.spc.canvas.draw()


class Clock:
    """The station's clock, set by the test: corrections and sign-ins happen "during" a shift
    of March 2026."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def shift_world(settings, tmp_path):
    local = datetime(2026, 3, 2, 13, 30).astimezone()          # the Early shift, local time
    clock = Clock(local.astimezone(timezone.utc))
    st = Station.open(None, tmp_path / "shift-data", now=clock, password_hasher=FAST_HASHER)
    admin = st.auth.create_first_admin("admin", PASSWORD)
    sup = st.users.create(admin, "sue", PASSWORD, Role.SUPERVISOR)
    op = st.users.create(admin, "otto", PASSWORD, Role.OPERATOR)
    w = st.warehouses.create(admin, "Hall A", 1000)
    p = st.products.create(admin, "BEANS-400", "Beans 400 g", w.id, 100, DEFAULT_SIDE_NAMES)
    world = World(st, settings, admin, Actor(sup.id, sup.username, sup.role),
                  Actor(op.id, op.username, op.role), w.id, p.id, settings.log_dir / "x.log")
    try:
        yield world, local, clock
    finally:
        st.close()


def test_one_click_shift_report(qtbot, shift_world, tmp_path):
    world, local, clock = shift_world
    st = world.station
    st.auth.sign_in("otto", PASSWORD)                          # signed in during the shift
    ids = []
    for n, verdict in enumerate(("pass", "reject", "pass", "review", "reject")):
        ids.append(record_inspection(world, world.operator, verdict, seed=n,
                                     started=local - timedelta(hours=5, minutes=-20 * n)))
    record_inspection(world, world.operator, "reject", seed=9,        # the night before
                      started=local - timedelta(hours=10))
    st.corrections.correct_can(world.supervisor, ids[1], "pass", "glare on the lid")
    ctx = AppContext(world.settings, st, world.supervisor, None, world.log_path)
    panel = StatsPanel(ctx, today=local.date())
    qtbot.addWidget(panel)
    panel.show()
    _settle(qtbot, panel)
    task = panel.shift_report(now=local, folder=tmp_path)
    qtbot.waitUntil(lambda: task.done, timeout=60000)
    report = panel.last_report
    assert report is not None, panel.summary.text()
    assert report.path == tmp_path / "shift-2026-03-02-early.pdf"
    # one rejected can is left after the correction: summary, charts, one can's page
    assert (report.cans, report.rejected, report.pages) == (5, 1, 3)
    pdf = PdfReader(str(report.path))
    assert len(pdf.pages) == 3
    first = pdf.pages[0].extract_text()
    assert "Shift report: Early shift 2026-03-02" in first
    assert "Cans inspected: 5" in first and "Reject: 1 (20.0%)" in first
    assert "glare on the lid" in first and "reject → pass" in first
    assert "otto" in first and "operator" in first           # signed in, and inspected
    assert "Control charts" in pdf.pages[1].extract_text()
    assert f"Inspection {ids[4]}" in pdf.pages[2].extract_text()
    assert str(report.path) in panel.summary.text()
