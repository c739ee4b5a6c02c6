"""``main.py line``: the headless station at the line, as a plant runs it (a real process, the
emulated camera, the OPC UA server), driven by the PLC simulator; Ctrl-C/SIGTERM stops it
cleanly with a summary."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from line.plc.sim import UaPlc
from tests.line.conftest import PLC_PASSWORD, PLC_USER, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_main_line_serves_the_plc_until_it_is_stopped(line_world):
    port = free_port()
    config = {
        "cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000",
                                  "emulator_images": str(line_world.photos)}},
        "recipes": {"*": {"camera": "turntable"}},
        "opcua": {"host": "127.0.0.1", "port": port, "security": "none"},
    }
    (line_world.data_dir / "line.json").write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STATION_LINE_PASSWORD": "plank ribbon quiver"}
    log = (line_world.data_dir / "stderr.txt").open("w+")   # a file: a full pipe would block it
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(line_world.data_dir), "line",
         "--user", "line", "--emulate", "1", "--threads", "1"],
        env=env, stderr=log, text=True)
    try:
        async def plc() -> dict:
            end = time.monotonic() + 120
            while True:
                try:
                    async with UaPlc(f"opc.tcp://127.0.0.1:{port}/can-station/", PLC_USER,
                                     PLC_PASSWORD, timeout_s=30) as p:
                        await p.select(line_world.sku)
                        result, _ = await p.run_can(7)
                        return result
                except (OSError, asyncio.TimeoutError):
                    assert proc.poll() is None, (line_world.data_dir / "stderr.txt").read_text()
                    assert time.monotonic() < end, "the line did not start serving"
                    await asyncio.sleep(0.5)
        result = asyncio.run(plc())
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    err = (line_world.data_dir / "stderr.txt").read_text()
    assert proc.returncode == 0, err
    assert result["Verdict"] in ("pass", "review", "reject") and result["CanNumber"] == 1
    assert "line running: OPC UA opc.tcp://127.0.0.1" in err
    assert "stopped: 1 cans" in err and "1 recorded" in err
    assert line_world.station.inspections.count(line_world.admin) == 1
