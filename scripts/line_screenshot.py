#!/usr/bin/env python3
"""Render docs/images/line/line-panel.png: the Line (PLC) panel with a real line behind it
(pypylon's emulated camera playing real can photos, the OPC UA server, the PLC simulator running
eight cans, one of them cut short by a reset), at 1366x768.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/line_screenshot.py [--out PATH]
"""
from __future__ import annotations

import os

os.environ["PYLON_CAMEMU"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(ROOT / "docs" / "images" / "line" / "line-panel.png"))
    args = p.parse_args()
    from PyQt5.QtWidgets import QApplication

    from benchmarks.bench_line import PLC_PASSWORD, PLC_USER, build_station, free_port
    from core.settings import Settings
    from gui.context import AppContext
    from gui.line.panel import LinePanel
    from line.plc.sim import UaPlc

    app = QApplication.instance() or QApplication(sys.argv)
    work = Path(tempfile.mkdtemp(prefix="line_shot_"))
    station, admin, line_user, photos = build_station(work)
    port = free_port()
    settings = Settings(data_dir=work / "data", station_name="line-1", torch_threads=1)
    (settings.data_dir / "line.json").write_text(json.dumps({
        "cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000",
                                  "emulator_images": str(photos)}},
        "recipes": {"*": {"camera": "turntable"}},
        "opcua": {"host": "127.0.0.1", "port": port, "security": "sign-encrypt"}}))
    panel = LinePanel(AppContext(settings, station, line_user, None, work / "station.log"))
    panel.resize(1366 - 220, 768 - 60)
    panel.show()
    panel.start_button.click()
    wait(app, lambda: panel.line is not None)
    done = threading.Event()

    async def plc() -> None:
        async with UaPlc(f"opc.tcp://127.0.0.1:{port}/can-station/", PLC_USER, PLC_PASSWORD,
                         "sign-encrypt", work / "plc", timeout_s=30) as p:
            await p.select("BEANS-400")
            for n in range(8):
                if n == 5:
                    for step in (1, 2, 3):
                        await p.trigger(step)
                    await p.call("Reset")
                    await p.wait_result()
                    continue
                await p.run_can(7)
            done.set()
            while not panel_closed.is_set():
                await asyncio.sleep(0.1)

    panel_closed = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(plc()), daemon=True)
    thread.start()
    wait(app, done.is_set, 300)
    wait(app, lambda: "8 saved" in panel.counters.text() or "7 saved" in panel.counters.text())
    wait(app, lambda: False, 1.0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(out))
    print(f"wrote {out}")
    panel_closed.set()
    thread.join(10)
    panel.shutdown()
    station.close()
    return 0


def wait(app, predicate, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main())
