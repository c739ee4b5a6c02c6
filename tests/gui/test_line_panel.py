"""gui.line: the operator's line mode, with the real line behind it (pypylon's emulated camera
playing real can photos, the OPC UA server, a PLC simulator over loopback)."""
from __future__ import annotations

import os

os.environ["PYLON_CAMEMU"] = "4"   # as tests/line: before pypylon is first imported

import asyncio
import json
import threading

from app.first_start import install_bundled_model
from core.sides import DEFAULT_SIDE_NAMES
from db import Role
from gui.line.panel import LinePanel
from gui.main_window import MainWindow
from line.plc.sim import UaPlc
from tests.line.conftest import free_port, make_photos

PLC_PASSWORD = "lantern staple orbit"


def wire_a_line(world, tmp_path) -> int:
    """A product with the bundled model, a PLC account, and line.json in the data folder."""
    model = install_bundled_model(world.station, world.settings.models_dir)
    world.station.products.create(world.admin, "LINE-1", "Line product", world.warehouse_id, 10,
                                  DEFAULT_SIDE_NAMES, model_id=model.id)
    world.station.users.create(world.admin, "plc1", PLC_PASSWORD, Role.OPERATOR)
    photos = make_photos(tmp_path / "emulator")
    port = free_port()
    (world.settings.data_dir / "line.json").write_text(json.dumps({
        "cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000",
                                  "emulator_images": str(photos[0].parent)}},
        "recipes": {"*": {"camera": "turntable"}},
        "opcua": {"host": "127.0.0.1", "port": port, "security": "none"}}))
    world.settings.torch_threads = 1
    return port


def run_plc(port: int, cans: int, outcome: dict) -> threading.Thread:
    async def plc() -> None:
        async with UaPlc(f"opc.tcp://127.0.0.1:{port}/can-station/", "plc1", PLC_PASSWORD,
                         timeout_s=30) as p:
            await p.select("LINE-1")
            outcome["results"] = [(await p.run_can(7))[0] for _ in range(cans)]

    def main() -> None:
        try:
            asyncio.run(plc())
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc

    thread = threading.Thread(target=main, name="plc-sim", daemon=True)
    thread.start()
    return thread


def test_line_panel_is_offered_only_where_a_line_is_configured(world, make_ctx, qtbot, tmp_path):
    window = MainWindow(make_ctx(Role.OPERATOR))
    qtbot.addWidget(window)
    assert "Line (PLC)" not in window.panel_titles()
    wire_a_line(world, tmp_path)
    window = MainWindow(make_ctx(Role.OPERATOR))
    qtbot.addWidget(window)
    assert "Line (PLC)" in window.panel_titles()


def test_operator_sees_the_plc_the_state_and_the_verdict_strip(world, make_ctx, qtbot, tmp_path):
    port = wire_a_line(world, tmp_path)
    panel = LinePanel(make_ctx(Role.OPERATOR))
    qtbot.addWidget(panel)
    assert panel.state.text() == "OFF" and not panel.stop_button.isEnabled()
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.line is not None, timeout=120_000)
    assert panel.state.text() == "IDLE"
    assert f"opc.tcp://127.0.0.1:{port}" in panel.endpoints.text()
    outcome: dict = {}
    plc = run_plc(port, 2, outcome)
    qtbot.waitUntil(lambda: "OPC UA user plc1" in panel.plc.text() or "results" in outcome,
                    timeout=60_000)
    qtbot.waitUntil(lambda: len(panel.strip.reports) == 2 or "error" in outcome, timeout=120_000)
    plc.join(30)
    assert "error" not in outcome, outcome.get("error")
    shown = list(panel.strip.reports)
    assert [r.verdict.value for r in shown] == [r["Verdict"] for r in outcome["results"]]
    tile = panel.strip._tiles[-1]
    assert tile.text().startswith("#2\n") and shown[-1].verdict.value.upper() in tile.text()
    assert "LINE-1" in panel.product.text()
    qtbot.waitUntil(lambda: "2 saved" in panel.counters.text(), timeout=60_000)
    assert "Saved as inspection #" in tile.toolTip()
    qtbot.waitUntil(lambda: panel.plc.text() == "not connected", timeout=30_000)
    assert any("PLC disconnected" in panel.events.item(i).text()
               for i in range(panel.events.count()))
    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.state.text() == "OFF" and panel.start_button.isEnabled(),
                    timeout=60_000)
    assert world.station.inspections.count(world.admin) == 2


def test_a_missing_or_broken_line_json_is_said_plainly(world, make_ctx, qtbot):
    (world.settings.data_dir / "line.json").write_text("{ not json")
    panel = LinePanel(make_ctx(Role.OPERATOR))
    qtbot.addWidget(panel)
    panel.start_button.click()
    qtbot.waitUntil(lambda: "not readable JSON" in panel.message.text(), timeout=30_000)
    assert panel.line is None and panel.start_button.isEnabled()
