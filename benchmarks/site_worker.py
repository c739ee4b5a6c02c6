#!/usr/bin/env python3
"""One station process of a site, for benchmarks/bench_site.py and tests/db/test_site_processes.py:
open the station (shared PostgreSQL, shared S3 store, its own data folder and name), sign in, and
record ``--cans`` cans through the real services, one after another, as a line would.

Each can has a capture key made from ``--run``, the station's name and its number, so a station
started again after being killed records the same cans again and the database keeps one of each
(``already_recorded``). A can whose save fails because the store or the database is away is tried
again (same key) until ``--give-up-s`` seconds have passed without success
(``app.recording.record_patiently``, as the line's recorder does); then it is reported as "review"
(not recorded: a person must look) and the process goes on. Nothing is dropped silently.

Each can prints one line to stdout: ``<number> <key> <inspection id or -> <status> <seconds>``,
status one of new, again (already recorded), review (given up).
Endpoint and keys of the store come from the STATION_STORE_* variables.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.recording import record_patiently  # noqa: E402
from db import NewInspection, NewSide, Station  # noqa: E402
from db.errors import DatabaseBusy, DatabaseUnavailable, ImageStoreUnavailable, StationDataError  # noqa: E402
from db.passwords import PasswordHasher  # noqa: E402

SIDES = ("top", "bottom", "side-0", "side-60", "side-120", "side-180", "side-240")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG = b"\x89PNG\r\n\x1a\n"
RETRYABLE = (ImageStoreUnavailable, DatabaseUnavailable, DatabaseBusy)


def payload(magic: bytes, seed: str, size: int) -> bytes:
    """``size`` bytes that start like the declared type and are unique to ``seed`` (a photo's
    sensor noise makes every real photo unique too); SHAKE output, so no two cans share one."""
    return magic + hashlib.shake_256(seed.encode()).digest(max(0, size - len(magic)))


def make_can(product_id: int, station: str, key: str, n: int, photo_kb: int) -> NewInspection:
    bad = n % 17 == 0
    started = datetime.now(timezone.utc)
    sides = [NewSide(side_name=name,
                     image_bytes=payload(JPEG, f"{key}/{name}/photo", photo_kb * 1024),
                     image_ext="jpg",
                     heatmap_bytes=payload(PNG, f"{key}/{name}/heat", photo_kb * 1024 // 8),
                     score=0.8 if bad and i == 0 else 0.1,
                     label="Anomaly" if bad and i == 0 else "Good",
                     outcome="reject" if bad and i == 0 else "pass")
             for i, name in enumerate(SIDES)]
    return NewInspection(product_id=product_id, station_name=station, started=started,
                         finished=started + timedelta(milliseconds=300), model_name="cam",
                         model_version="1", verdict="reject" if bad else "pass", sides=sides,
                         thumbnail_bytes=payload(JPEG, f"{key}/thumb", 12 * 1024),
                         capture_key=key)


def open_station(args: argparse.Namespace) -> Station:
    """The station, waiting (up to ``--give-up-s``) for a store or database that is away."""
    from db.stores import open_store
    data_dir = Path(args.data_dir)
    started = time.monotonic()
    while True:
        try:
            store = open_store(args.store_url, data_dir, wait_s=args.store_wait_s)
            return Station.open(args.db_url, data_dir, store=store, station_name=args.name,
                                password_hasher=PasswordHasher(time_cost=1, memory_cost=8,
                                                               parallelism=1))
        except RETRYABLE:
            if time.monotonic() - started > args.give_up_s:
                raise
            time.sleep(1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db-url", required=True)
    ap.add_argument("--store-url", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--run", required=True, help="tag of this benchmark run (part of each key)")
    ap.add_argument("--cans", type=int, default=250)
    ap.add_argument("--sku", default="SITE-1")
    ap.add_argument("--user", default="op1")
    ap.add_argument("--photo-kb", type=int, default=120)
    ap.add_argument("--store-wait-s", type=float, default=30.0)
    ap.add_argument("--give-up-s", type=float, default=180.0)
    args = ap.parse_args()
    station = open_station(args)
    try:
        actor = station.auth.sign_in(args.user, os.environ["STATION_PASSWORD"])
        product = next(p for p in station.products.list(actor) if p.sku == args.sku)
        for n in range(args.cans):
            key = f"{args.run}-{args.name}-{n:05d}"
            can = make_can(product.id, args.name, key, n, args.photo_kb)
            started = time.monotonic()
            status, inspection = "review", "-"
            try:       # the line's policy: tried again within the bound, then a person looks
                info = record_patiently(station, actor, can, args.give_up_s)
                status, inspection = ("again" if info.already_recorded else "new"), info.id
            except RETRYABLE as exc:
                print(f"# can {key} goes to review: {exc}", file=sys.stderr)
            print(f"{n} {key} {inspection} {status} {time.monotonic() - started:.4f}",
                  flush=True)
    except StationDataError as exc:
        print(f"# station {args.name} stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        station.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
