#!/usr/bin/env python3
"""The soak benchmark of the line: N cans through the OPC UA loop, all real parts.

The station (controller, inspector with the bundled model, recorder on SQLite, the OPC UA server)
runs in this process; pypylon's emulated camera plays 14 real can photos (7 good, 7 defective);
the PLC is a separate process (``line.plc.sim.UaPlc``) that selects the product and, per can,
triggers the seven steps and waits for ``LastResult.Sequence`` to move on, like a PLC polling.

It checks: every published result arrives once, in order (Sequence +1, CanNumber +1, the CanId
that Trigger returned): 0 lost, 0 duplicated; every can recorded with the verdict the PLC read.
It reports trigger-to-verdict (client side: the last Trigger call to the verdict seen; station
side: the TriggerToVerdictMs node) median / p99 / max, deadline misses, and the station's resident
memory after warm-up and at the end.

    .venv/bin/python benchmarks/bench_line.py                   # 100 cans: a quick run
    nice -n 10 .venv/bin/python benchmarks/bench_line.py --cans 1000   # the documented soak
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["PYLON_CAMEMU"] = "1"      # before pypylon is imported
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# ../shared/datasets/cans beside the repository (or above a worktree); $STATION_CANS_DIR overrides
DATA = Path(os.environ.get("STATION_CANS_DIR") or next(
    (p / "shared" / "datasets" / "cans" for p in ROOT.parents
     if (p / "shared" / "datasets" / "cans").is_dir()), ROOT.parent / "shared" / "datasets" / "cans"))
PLC_USER, PLC_PASSWORD = "plc1", "lantern staple orbit"
GOOD = ["IMG_20220624_155932.jpg", "IMG_20220624_155156.jpg", "IMG_20220624_155657.jpg",
        "IMG_20220624_155425.jpg", "IMG_20221108_091421.jpg", "IMG_20221108_092514.jpg",
        "IMG_20220624_155219.jpg"]
DEFECT = "IMG_20220923_224003.jpg"


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def plc_process(args: argparse.Namespace) -> int:
    """The PLC: one JSON line per can on stdout."""
    import asyncio

    from line.plc.sim import UaPlc

    async def run() -> None:
        async with UaPlc(args.endpoint, PLC_USER, PLC_PASSWORD, args.security,
                         Path(args.work) / "plc", timeout_s=30) as plc:
            steps = await plc.select(args.sku)
            for _ in range(args.cans):
                can_id = None
                for step in range(1, steps + 1):
                    t0 = time.perf_counter()
                    out = await plc.trigger(step)
                    can_id = can_id or out[0]
                result = await plc.wait_result(60)
                ms = (time.perf_counter() - t0) * 1000.0
                print(json.dumps({"trigger_can_id": can_id, "client_ms": ms,
                                  **{k: result[k] for k in ("CanId", "CanNumber", "Sequence",
                                                            "Verdict", "TriggerToVerdictMs",
                                                            "InspectMs", "DeadlineMissed",
                                                            "Reason")}}),
                      flush=True)
    asyncio.run(run())
    return 0


def build_station(work: Path):
    from app.first_start import install_bundled_model
    from core.sides import DEFAULT_SIDE_NAMES
    from db import Role, Station

    station = Station.open(None, work / "data")
    admin = station.auth.create_first_admin("admin", "correct horse battery")
    user = station.users.create(admin, "line", "plank ribbon quiver", Role.OPERATOR)
    station.users.create(admin, PLC_USER, PLC_PASSWORD, Role.OPERATOR)
    model = install_bundled_model(station, work / "data" / "models")
    w = station.warehouses.create(admin, "Hall A", 1_000_000)
    station.products.create(admin, "BEANS-400", "Beans 400 g", w.id, 0, DEFAULT_SIDE_NAMES,
                            model_id=model.id)
    photos = work / "photos"
    photos.mkdir()
    # The photos of tests/line/conftest.py: a can of seven good sides the bundled model passes,
    # then the same can with side 4 defective, over and over: half pass, half reject.
    chosen = [DATA / "good" / n for n in GOOD] * 2
    chosen[7 + 3] = DATA / "defect" / DEFECT
    assert all(p.is_file() for p in chosen), f"the can photos are missing under {DATA}"
    for i, src in enumerate(chosen):
        (photos / f"{i:02d}.jpg").symlink_to(src)
    from db import Actor
    return station, admin, Actor(user.id, user.username, user.role), photos


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cans", type=int, default=100, help="cans to run (1000 = the documented soak)")
    p.add_argument("--security", default="none", choices=("none", "sign", "sign-encrypt"))
    p.add_argument("--threads", type=int, default=1, help="torch threads of the inspector")
    p.add_argument("--deadline-ms", type=int, default=1500)
    p.add_argument("--work", help="folder for the station's data (default: a temporary one)")
    p.add_argument("--plc", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--endpoint", help=argparse.SUPPRESS)
    p.add_argument("--sku", default="BEANS-400", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.plc:
        return plc_process(args)
    import logging
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_line_"))
    work.mkdir(parents=True, exist_ok=True)
    return soak(args, work)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def soak(args: argparse.Namespace, work: Path) -> int:
    from types import SimpleNamespace

    from line.config import LineConfig
    from line.station import LineStation

    station, admin, line_user, photos = build_station(work)
    port = free_port()
    config = LineConfig.from_dict({
        "cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000",
                                  "emulator_images": str(photos), "roi": [0, 0, 640, 640]}},
        "recipes": {"*": {"camera": "turntable"}},
        "timing": {"deadline_ms": args.deadline_ms},
        "opcua": {"host": "127.0.0.1", "port": port, "security": args.security}})
    settings = SimpleNamespace(data_dir=work / "data", station_name="bench-line")
    line = LineStation(station, line_user, config, settings, torch_threads=args.threads)
    started = time.monotonic()
    line.start()
    print(f"station up in {time.monotonic() - started:.1f} s at {line.endpoints()[0]}; "
          f"{args.cans} cans", flush=True)
    plc = subprocess.Popen(
        [sys.executable, __file__, "--plc", "--endpoint", line.opcua.endpoint, "--cans",
         str(args.cans), "--security", args.security, "--work", str(work)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    rows, rss = [], {}
    t_first = None
    for text in plc.stdout:
        row = json.loads(text)
        rows.append(row)
        n = len(rows)
        if n == 1:
            t_first = time.monotonic()
        if n in (10, args.cans) or n % 100 == 0:
            rss[n] = rss_mib()
        if n % 100 == 0:
            print(f"  {n} cans, RSS {rss[n]:.0f} MiB", flush=True)
    plc.wait()
    elapsed = time.monotonic() - (t_first or time.monotonic())
    end = time.monotonic() + 120
    while line.controller.counters().recorded + line.controller.counters().record_failed \
            < len(rows) and time.monotonic() < end:
        time.sleep(0.1)
    line.stop()
    return report(args, rows, rss, elapsed, station, admin, line.controller.counters(),
                  plc.returncode)


def report(args, rows, rss, elapsed, station, admin, counters, plc_rc) -> int:
    n = len(rows)
    sequences = [r["Sequence"] for r in rows]
    lost = sum(b - a - 1 for a, b in zip(sequences, sequences[1:]) if b > a + 1)
    duplicated = sum(1 for a, b in zip(sequences, sequences[1:]) if b <= a)
    mismatched = sum(1 for i, r in enumerate(rows) if r["CanId"] != r["trigger_can_id"]
                     or r["CanNumber"] != i + 1)
    client = [r["client_ms"] for r in rows]
    server = [r["TriggerToVerdictMs"] for r in rows]
    inspect = [r["InspectMs"] for r in rows]
    recorded = station.inspections.count(admin)
    pages = []
    for offset in range(0, recorded, 1000):
        pages += station.inspections.page(admin, sort="started", offset=offset, limit=1000)
    record_mismatch = sum(1 for r, row in zip(rows, pages) if r["Verdict"] != row.machine_verdict)
    verdicts = {v: sum(r["Verdict"] == v for r in rows) for v in ("pass", "review", "reject")}

    def spread(values: list[float]) -> str:
        return (f"median {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
                f"max {max(values):.1f} ms")

    table = [
        ("cans asked / results read", f"{args.cans} / {n}"),
        ("lost results / duplicated / out of order or wrong CanId",
         f"{lost + args.cans - n} / {duplicated} / {mismatched}"),
        ("verdicts", ", ".join(f"{k} {v}" for k, v in verdicts.items())),
        (f"deadline ({args.deadline_ms} ms) missed", str(sum(r["DeadlineMissed"] for r in rows))),
        ("trigger-to-verdict, PLC side (last Trigger call to the verdict seen)", spread(client)),
        ("trigger-to-verdict, station side (TriggerToVerdictMs node)", spread(server)),
        ("of which the model's inspection (InspectMs node)", spread(inspect)),
        ("cans per minute", f"{60 * n / max(elapsed, 1e-9):.0f}"),
        ("recorded in the database / verdict differs from the PLC's",
         f"{recorded} / {record_mismatch} (recorder: {counters.recorded} ok, "
         f"{counters.record_failed} failed)"),
        ("station RSS after 10 cans / at the end", f"{rss.get(10, 0):.0f} MiB / {rss.get(n, 0):.0f} MiB"),
        ("RSS every 100 cans (MiB)", ", ".join(f"{v:.0f}" for k, v in sorted(rss.items()) if k % 100 == 0)),
        ("security, torch threads", f"{args.security}, {args.threads}"),
    ]
    print("\n| measure | value |\n|---|---|")
    for name, value in table:
        print(f"| {name} | {value} |")
    print()
    ok = (n == args.cans and lost == 0 and duplicated == 0 and mismatched == 0
          and recorded == n and record_mismatch == 0 and plc_rc == 0)
    print("OK" if ok else "FAILED: see the table")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
