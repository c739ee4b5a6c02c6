#!/usr/bin/env python3
"""Entry point: parse arguments, build settings, then start the GUI or run a command-line job.

Wiring only. Each layer registers its own sub-commands (core.cli, db.cli, app.cli); the GUI is the
default.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

# Idle OpenMP threads sleep instead of spinning: on a station PC the GUI thread, the camera and the
# inference worker share a few cores, and spinning threads stole them (measured in benchmarks/
# bench_can.py --passive-wait and bench_gui_stall.py). Read once, when torch loads; a user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from core.images.io import set_max_image_bytes
from core.settings import SettingsInvalid, resolve_settings


def build_parser() -> argparse.ArgumentParser:
    from app import cli as app_cli
    from core import cli as core_cli
    from db import cli as db_cli
    from line import cli as line_cli

    parser = argparse.ArgumentParser(prog="main.py", description="Can inspection station")
    parser.add_argument("--data-dir", help="folder for the database, images, models and logs "
                        "(default: $STATION_DATA_DIR or the user data folder)")
    parser.add_argument("--db-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
                        "(default: an SQLite file in the data folder)")
    parser.add_argument("--store-url", help="where the photos go: s3://bucket/prefix (S3-compatible "
                        "object storage shared by the site; endpoint and keys from "
                        "STATION_STORE_ENDPOINT/_ACCESS_KEY/_SECRET_KEY or the file in "
                        "STATION_STORE_CREDENTIALS); default: the data folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("gui", help="start the desktop station (the default)")
    core_cli.register(sub)
    db_cli.register(sub)
    app_cli.register(sub)
    line_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = resolve_settings(args.data_dir, args.db_url,
                                    flags={"store_url": args.store_url})
        set_max_image_bytes(settings.max_image_mb * 1024 * 1024)
    except SettingsInvalid as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command in (None, "gui"):
        from gui.platform_check import problem
        reason = problem(os.environ)   # before Qt: its xcb plugin aborts without a word of help
        if reason is not None:
            print(reason, file=sys.stderr)
            return 2
        from gui.app import run_gui
        return run_gui(settings)
    return int(args.run(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
