"""Command-line jobs of the line, registered into main.py:

    main.py line [--config PATH] [--user NAME] [--password-stdin] [--emulate N]
        runs the station headless at the line: cameras, the OPC UA and/or Modbus TCP servers of
        line.json, the inspection loop; records as --user; stops on Ctrl-C / SIGTERM.
    main.py line-sim (--opcua URL --user NAME | --modbus HOST:PORT --code N) --sku SKU [--cans N]
        a PLC simulator for commissioning: selects the product, runs N cans, prints each verdict.

Each job is ``run(args, settings) -> exit code``; person-facing errors are one line on stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from common.errors import PersonFacingError

log = logging.getLogger("line")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("line", help="run the station headless at the line (cameras, PLC)",
                              description="Run the inspection loop of line.json: cameras, the "
                                          "PLC's OPC UA / Modbus TCP servers, verdicts, records.")
    p.add_argument("--config", help="line configuration (default: <data folder>/line.json)")
    p.add_argument("--user", default=os.environ.get("STATION_LINE_USER"),
                   help="the account the cans are recorded as ($STATION_LINE_USER)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (else $STATION_LINE_PASSWORD "
                        "or a prompt)")
    p.add_argument("--emulate", type=int, metavar="N",
                   help="use N emulated GenICam cameras (pypylon's PYLON_CAMEMU), no hardware")
    p.add_argument("--threads", type=int, help="torch CPU threads for the inspector")
    p.set_defaults(run=run_line)
    s = subparsers.add_parser("line-sim", help="a PLC simulator for commissioning the line")
    s.add_argument("--opcua", metavar="URL", help="the station's OPC UA endpoint")
    s.add_argument("--user", help="OPC UA user name")
    s.add_argument("--security", default="none", choices=("none", "sign", "sign-encrypt"))
    s.add_argument("--modbus", metavar="HOST:PORT", help="the station's Modbus TCP server")
    s.add_argument("--code", type=int, help="Modbus product code (line.json modbus.products)")
    s.add_argument("--sku", help="the product to select (OPC UA)")
    s.add_argument("--cans", type=int, default=1)
    s.set_defaults(run=run_sim)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return os.environ.get("STATION_LINE_PASSWORD") or getpass.getpass("Password: ")


def _quiet_libraries() -> None:
    """asyncua and pymodbus log every node and request at INFO; the plant needs the line's log."""
    if logging.getLogger().level > logging.DEBUG:
        for name in ("asyncua", "pymodbus"):
            logging.getLogger(name).setLevel(logging.WARNING)


def run_line(args: argparse.Namespace, settings: Any) -> int:
    _quiet_libraries()
    if args.emulate:
        os.environ["PYLON_CAMEMU"] = str(args.emulate)   # read when pypylon is imported
    from db import Station
    from line.config import LineConfig, default_config_path
    from line.station import LineStation

    try:
        config = LineConfig.load(args.config or default_config_path(settings.data_dir))
        station = Station.from_settings(settings, register=True)
    except PersonFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if not args.user:
            print("error: name the account the line records as: --user NAME", file=sys.stderr)
            return 2
        actor = station.auth.sign_in(args.user, _password(args))
        from app.first_start import install_bundled_model
        install_bundled_model(station, Path(settings.data_dir) / "models")   # as the GUI does
        line = LineStation(station, actor, config, settings,
                           torch_threads=args.threads or settings.torch_threads)
        line.start()
        from app.site_sync import SiteSync
        sync = SiteSync(station)     # heartbeat, and models rolled out to the site
        sync.start()
        print(f"line running: {', '.join(line.endpoints()) or 'no PLC server enabled'}; "
              "Ctrl-C stops it", file=sys.stderr)
        stop.wait()
        sync.stop()
        line.stop()
        c = line.controller.counters()
        print(f"stopped: {c.total} cans ({c.passed} pass, {c.review} review, {c.rejected} "
              f"reject, {c.deadline_missed} late), {c.recorded} recorded", file=sys.stderr)
        return 0
    except PersonFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        station.close()


def run_sim(args: argparse.Namespace, settings: Any) -> int:
    from line.plc.sim import ModbusPlc, PlcTimeout, UaPlc

    async def opcua() -> None:
        password = os.environ.get("STATION_PLC_PASSWORD") or getpass.getpass("Password: ")
        cert_dir = Path(settings.data_dir) / "line" / "plc-sim"
        async with UaPlc(args.opcua, args.user, password, args.security, cert_dir) as plc:
            steps = await plc.select(args.sku)
            for _ in range(args.cans):
                result, ms = await plc.run_can(steps)
                print(f"can {result['CanNumber']}: {result['Verdict']:<6} {ms:7.1f} ms  "
                      f"{' '.join(result['SideOutcomes'])}  {result['Reason']}")

    async def modbus() -> None:
        host, _, port = args.modbus.rpartition(":")
        async with ModbusPlc(host or "127.0.0.1", int(port)) as plc:
            steps = await plc.select(args.code)
            for _ in range(args.cans):
                for step in range(1, steps + 1):
                    error = await plc.trigger(step)
                    if error:
                        print(f"step {step} refused: error code {error}")
                result = await plc.wait_result()
                await plc.acknowledge()
                print(f"can {result['can_number']}: verdict code {result['verdict_code']}, "
                      f"reject coil {int(result['reject_coil'])}, {result['ms']} ms")

    if bool(args.opcua) == bool(args.modbus):
        print("error: give --opcua URL or --modbus HOST:PORT", file=sys.stderr)
        return 2
    try:
        asyncio.run(opcua() if args.opcua else modbus())
    except (PlcTimeout, OSError, PersonFacingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - asyncua/pymodbus errors: the station refused
        print(f"error: the station refused ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 1
    return 0
