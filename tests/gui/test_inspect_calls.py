"""Every Inspect makes ONE service call, in a worker, never on the GUI thread (issue 10 item 7,
the Inspect part)."""
from __future__ import annotations

import threading

from PyQt5.QtCore import Qt

from db import Role
from gui.capture.panel import CapturePanel
from tests.gui.test_capture_inspect import fill_with_cans, register


class Recorded:
    """The real Station, with each service call noted (service.method, thread) on its way."""

    def __init__(self, station) -> None:
        self._station = station
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str):
        target = getattr(self._station, name)
        if not hasattr(target, "_db"):           # not a service: hand it out as it is
            return target
        return _Service(name, target, self.calls)


class _Service:
    def __init__(self, name, service, calls) -> None:
        self._name, self._service, self._calls = name, service, calls

    def __getattr__(self, attr: str):
        method = getattr(self._service, attr)

        def call(*args, **kwargs):
            self._calls.append((f"{self._name}.{attr}", threading.current_thread().name))
            return method(*args, **kwargs)
        return call


def test_inspect_asks_the_database_once_off_the_gui_thread(qtbot, make_ctx, world, inference,
                                                           tiny_model, tmp_path):
    register(world, tiny_model)
    ctx = make_ctx(Role.OPERATOR, inference=inference)
    recorded = Recorded(world.station)
    panel = CapturePanel(type(ctx)(ctx.settings, recorded, ctx.actor, inference, ctx.log_path))
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    try:
        fill_with_cans(qtbot, panel, tmp_path)
        qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
        recorded.calls.clear()
        gui = threading.current_thread().name
        qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
        # The click itself reads nothing on the GUI thread (the worker may already have asked).
        assert all(thread != gui for _, thread in recorded.calls), recorded.calls
        qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=60000)
        qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
        asked = [c for c in recorded.calls if not c[0].startswith("inspections.record")]
        assert [name for name, _ in asked] == ["models.for_inspection"]
        assert all(thread != gui for _, thread in recorded.calls), recorded.calls
    finally:
        panel.shutdown()
