#!/usr/bin/env python3
"""Database benchmark: fill a station database with N inspections (7 side results each) and time
the gallery page, its count, and the statistics queries, through the real services.

    .venv/bin/python benchmarks/bench_db.py                       # SQLite, 100 000 inspections
    .venv/bin/python benchmarks/bench_db.py --temp-postgres       # a throw-away PostgreSQL
    .venv/bin/python benchmarks/bench_db.py --url postgresql+psycopg://user@host/db

The fill is fast and synthetic: bulk Core inserts in chunks, 8 products in 3 warehouses,
6 operators, 90 days, about 90 % pass / 6 % review / 4 % reject, 1 % of cans corrected. File
hashes are well-formed SHA-256 values of made-up content; no image files are written (the queries
never open files). Times are medians of repeated runs, in milliseconds.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from db import GalleryFilter, Role, Station  # noqa: E402
from db.passwords import PasswordHasher  # noqa: E402
from db.schema import Correction, Inspection, SideResult  # noqa: E402
from db.services.rows import station_day  # noqa: E402

SIDES = ("top", "bottom", "side-0", "side-60", "side-120", "side-180", "side-240")
DAYS = 90
END = datetime(2026, 6, 30, 18, 0, tzinfo=timezone.utc)
CHUNK = 2000


def fill(station: Station, n: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    admin = station.auth.create_first_admin("admin", "benchmark-pw-2026")
    sup = station.users.create(admin, "super", "benchmark-pw-2026", Role.SUPERVISOR)
    operators = [station.users.create(admin, f"op{k}", "benchmark-pw-2026", Role.OPERATOR).id
                 for k in range(6)]
    warehouses = [station.warehouses.create(admin, f"Hall {c}", 10**9).id for c in "ABC"]
    products = [(station.products.create(admin, f"SKU-{k:03d}", f"Product {k}",
                                         warehouses[k % 3], 1000, SIDES).id, warehouses[k % 3])
                for k in range(8)]
    weights = [30, 20, 15, 10, 10, 7, 5, 3]   # a few products dominate, as on a real line
    start = END - timedelta(days=DAYS)
    t0 = time.perf_counter()
    next_id = 1
    side_id = 1
    while next_id <= n:
        rows, sides, fixes = [], [], []
        for iid in range(next_id, min(n, next_id + CHUNK - 1) + 1):
            product, warehouse = rng.choices(products, weights)[0]
            started = start + timedelta(seconds=rng.uniform(0, DAYS * 86400))
            r = rng.random()
            verdict = "pass" if r < 0.90 else "review" if r < 0.96 else "reject"
            corrected = None
            if verdict != "pass" and rng.random() < 0.15:
                corrected = "pass"
            bad = rng.randrange(7) if verdict != "pass" else -1
            naive = started.replace(tzinfo=None)
            rows.append(dict(id=iid, product_id=product, warehouse_id=warehouse,
                             operator_id=rng.choice(operators), station_name=f"line-{iid % 3}",
                             started=naive, finished=naive + timedelta(seconds=1.5),
                             day=station_day(started), model_name="cam-effnet",
                             model_version="1.0", verdict=verdict, corrected_verdict=corrected,
                             final_verdict=corrected or verdict, thumbnail_sha=None,
                             thumbnail_ext=None))
            for pos, name in enumerate(SIDES):
                is_bad = pos == bad
                sides.append(dict(
                    id=side_id, inspection_id=iid, position=pos, side_name=name,
                    image_sha=hashlib.sha256(f"img-{iid}-{pos}".encode()).hexdigest(),
                    image_ext="jpg",
                    heatmap_sha=hashlib.sha256(f"heat-{iid}-{pos}".encode()).hexdigest(),
                    score=rng.uniform(0.55, 0.95) if is_bad else rng.uniform(0.0, 0.45),
                    label="Anomaly" if is_bad else "Good", corrected_label=None,
                    outcome=verdict if is_bad else "pass",
                    boxes=[{"x0": 10, "y0": 20, "x1": 60, "y1": 80, "score": 0.8}]
                    if is_bad else []))
                side_id += 1
            if corrected:
                fixes.append(dict(inspection_id=iid, side_result_id=None, value=corrected,
                                  note="benchmark", user_id=sup.id, created_at=naive))
        with station.database.write() as s:
            s.execute(insert(Inspection.__table__), rows)
            s.execute(insert(SideResult.__table__), sides)
            if fixes:
                s.execute(insert(Correction.__table__), fixes)
        next_id += len(rows)
    fill_s = time.perf_counter() - t0
    if station.database.engine.dialect.name == "postgresql":
        with station.database.engine.begin() as conn:
            for table in ("inspections", "side_results"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        # What autovacuum does shortly after a bulk load anyway; without it PostgreSQL cannot
        # answer from the indexes alone (no visibility map yet).
        with station.database.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    # SQLite gets no ANALYZE on purpose: its figures hold without planner statistics.
    return {"admin": admin, "supervisor": station.auth.sign_in("super", "benchmark-pw-2026"),
            "product": products[1][0], "fill_s": fill_s,
            "sides": side_id - 1}


def timed(fn, repeat: int) -> float:
    fn()   # warm the caches once, as a gallery that is open would be
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="database URL (default: an SQLite file in a temporary folder)")
    ap.add_argument("--temp-postgres", action="store_true",
                    help="start a throw-away PostgreSQL cluster (as the tests do) and use it")
    ap.add_argument("--inspections", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    cluster = None
    url = args.url
    if args.temp_postgres:
        from tests.db.pgcluster import Cluster
        cluster = Cluster()
        url = cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-db-") as tmp:
            station = Station.open(url, Path(tmp),
                                   password_hasher=PasswordHasher(time_cost=1, memory_cost=8,
                                                                  parallelism=1))
            try:
                run(station, args)
            finally:
                station.close()
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


def run(station: Station, args: argparse.Namespace) -> None:
    info = fill(station, args.inspections)
    sup = info["supervisor"]
    month = GalleryFilter(product_id=info["product"], date_from=date(2026, 5, 1),
                          date_to=date(2026, 5, 31), verdict="pass")
    month_all = GalleryFilter(date_from=date(2026, 5, 1), date_to=date(2026, 5, 31))
    ins, st = station.inspections, station.stats
    cases = [
        ("gallery page: product + May + pass, newest first, offset 1000, 50 rows",
         lambda: ins.page(sup, month, "-started", 1000, 50)),
        ("count for that filter", lambda: ins.count(sup, month)),
        ("gallery page: no filter, newest first, offset 0, 50 rows",
         lambda: ins.page(sup, None, "-started", 0, 50)),
        ("gallery page: no filter, offset 50 000, 50 rows",
         lambda: ins.page(sup, None, "-started", 50_000, 50)),
        ("gallery page: rejects, sorted by product, offset 500",
         lambda: ins.page(sup, GalleryFilter(verdict="reject"), "product", 500, 50)),
        ("count: everything", lambda: ins.count(sup, None)),
        ("stats summary, all", lambda: st.summary(sup)),
        ("stats per day, all (90 rows)", lambda: st.per_day(sup)),
        ("stats per product, all", lambda: st.per_product(sup)),
        ("stats per operator, all", lambda: st.per_operator(sup)),
        ("stats per side, all (700 000 side rows)", lambda: st.per_side(sup)),
        ("stats per day, May", lambda: st.per_day(sup, month_all)),
        ("stats per side, May", lambda: st.per_side(sup, month_all)),
    ]
    backend = station.database.engine.dialect.name
    print(f"backend: {backend}; {args.inspections} inspections, {info['sides']} side results; "
          f"fill took {info['fill_s']:.1f} s; median of {args.repeat} runs")
    print("| query | ms |")
    print("|---|---:|")
    for name, fn in cases:
        print(f"| {name} | {timed(fn, args.repeat):.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
