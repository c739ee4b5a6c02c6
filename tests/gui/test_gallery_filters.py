"""Gallery and filters after a day at the line (issue 11 item 8): opens on today, calendars at
today, the filters stay put when nothing matches."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from PyQt5.QtCore import QPoint, Qt

from db import Role
from gui.gallery.filter_bar import date_edit
from gui.gallery.panel import GalleryPanel
from tests.gui.conftest import record_inspection


def _panel(qtbot, make_ctx) -> GalleryPanel:
    panel = GalleryPanel(make_ctx(Role.SUPERVISOR))
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    return panel


def _settle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)


def test_opens_on_today_and_the_period_widens_it(qtbot, make_ctx, world):
    now = datetime.now(timezone.utc)
    # Five minutes ago, but never before today's local midnight (a run just after midnight).
    midnight = datetime.combine(date.today(), datetime.min.time()).astimezone(timezone.utc)
    record_inspection(world, world.operator, "pass",
                      started=max(now - timedelta(minutes=5), midnight + timedelta(seconds=1)))
    record_inspection(world, world.operator, "reject", started=now - timedelta(days=3), seed=2)
    record_inspection(world, world.operator, "pass", started=now - timedelta(days=40), seed=3)
    panel = _panel(qtbot, make_ctx)
    assert panel.filters.period.currentText() == "Today"
    assert panel.model.rowCount() == 1
    assert not panel.filters.date_from.isEnabled()            # set by the period
    for text, n in (("Last 7 days", 2), ("Last 30 days", 2), ("All days", 3)):
        panel.filters.period.setCurrentIndex(panel.filters.period.findText(text))
        _settle(qtbot, panel)
        assert panel.model.rowCount() == n, text
    panel.filters.period.setCurrentIndex(panel.filters.period.findText("Chosen days"))
    _settle(qtbot, panel)
    assert panel.filters.date_from.isEnabled()
    assert panel.filters.date_from.date().toPyDate() == date.today()   # not 2000-01-01


def test_a_calendar_of_any_day_opens_at_todays_month(qtbot):
    edit = date_edit("probe")
    qtbot.addWidget(edit)
    edit.resize(200, 34)
    edit.show()
    qtbot.waitExposed(edit)
    assert edit.text() == "any"
    qtbot.mouseClick(edit, Qt.LeftButton, pos=QPoint(edit.width() - 10, edit.height() // 2))
    calendar = edit.calendarWidget()
    qtbot.waitUntil(calendar.isVisible, timeout=2000)
    today = date.today()
    assert (calendar.yearShown(), calendar.monthShown()) == (today.year, today.month)
    calendar.window().close()


def test_the_filters_stay_put_when_nothing_matches(qtbot, make_ctx, world):
    record_inspection(world, world.operator, "pass", started=datetime.now(timezone.utc))
    panel = _panel(qtbot, make_ctx)
    assert panel.model.rowCount() == 1
    _laid_out()
    where = (panel.filters.geometry(), panel.filters.reset_button.mapTo(panel, QPoint(0, 0)))
    panel.filters.verdict.setCurrentIndex(panel.filters.verdict.findData("reject"))
    _settle(qtbot, panel)
    assert panel.model.rowCount() == 0 and panel.empty.isVisible()
    _laid_out()                                  # the empty view's layout, applied now
    assert (panel.filters.geometry(), panel.filters.reset_button.mapTo(panel, QPoint(0, 0))) \
        == where


def _laid_out() -> None:
    """Apply every pending layout now (not after a fixed wait): the posted layout requests, then
    whatever they post in turn."""
    from PyQt5.QtCore import QEvent
    from PyQt5.QtWidgets import QApplication

    for _ in range(3):
        QApplication.sendPostedEvents(None, QEvent.LayoutRequest)
        QApplication.processEvents()
