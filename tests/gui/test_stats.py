"""Statistics panel: the charts are drawn from the services' numbers for the chosen period."""
from __future__ import annotations

from datetime import date, datetime, timezone

from db import Role
from gui.stats_panel import StatsPanel
from tests.gui.conftest import record_inspection


def test_charts_render_with_data_for_the_chosen_period(qtbot, make_ctx, world):
    for n, verdict in enumerate(("pass", "pass", "reject", "review")):
        record_inspection(world, world.operator, verdict, seed=n,
                          started=datetime(2026, 3, 2 + n % 2, 9, n, tzinfo=timezone.utc))
    record_inspection(world, world.supervisor, "reject", seed=9,
                      started=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc))
    panel = StatsPanel(make_ctx(Role.SUPERVISOR), today=date(2026, 3, 10))
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy and panel.data is not None, timeout=10000)
    assert panel.data.summary.total == 5                 # last 30 days holds them all
    assert "5 cans: 2 pass, 1 review, 2 reject" in panel.summary.text()
    axes = panel.figure.axes
    assert len(axes) == 5
    titles = [a.get_title(loc="left") for a in axes]
    assert titles[0].startswith("Defect rate per day") and "operator" in titles[4]
    heights = [p.get_height() for p in axes[1].patches]
    assert heights == [2, 1, 2]
    operators = {t.get_text() for t in axes[4].get_yticklabels()}
    assert operators == {"otto", "sue"}
    assert len(axes[0].lines[0].get_xdata()) == 3       # three days with inspections

    panel.choose_dates(date(2026, 3, 3), date(2026, 3, 3))
    qtbot.waitUntil(lambda: not panel.busy and panel.data.summary.total == 2, timeout=10000)
    # 3 March: n=1 (pass) and n=3 (review)
    assert [p.get_height() for p in panel.figure.axes[1].patches] == [1, 1, 0]
    panel.canvas.draw()                                   # renders without error


def test_empty_period_says_so(qtbot, make_ctx, world):
    panel = StatsPanel(make_ctx(Role.ADMIN), today=date(2026, 3, 10))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy and panel.data is not None, timeout=10000)
    assert panel.summary.text() == "No inspections in this period."
    panel.canvas.draw()
