#!/usr/bin/env python3
"""Site benchmark: N station processes (default 4) x M cans (default 250) against one PostgreSQL
and one SeaweedFS (S3), both throw-away servers started here on loopback, as the tests do.

    .venv/bin/python benchmarks/bench_site.py                   # 4 x 250, then the fault run
    .venv/bin/python benchmarks/bench_site.py --stations 2 --cans 50 --photo-kb 60

Two runs, each with fresh capture keys:

1. steady: every station records its cans; meanwhile a supervisor at another station pages the
   gallery and opens the page's thumbnails (which that station never had: they come from the
   store) every second.
2. faults: the same, while one station process is killed (SIGKILL, in the middle of a save) at a
   quarter of the run and started again (it records the same keys again), and the object store
   is killed at half of the run and started again after ``--outage-s`` seconds.

Per run: cans recorded, cans sent to review (gave up), rows lost (keys with no row), objects
lost (a row's photo not in the store), orphans (objects no row names) before and after the
journal sweep, throughput (cans per second over the run's wall time), per-can save time
(median, p95), and the gallery page from the other station (query only, and with the 50
thumbnails fetched), with the pages that failed while the store was away.
Each can is 7 photos of ``--photo-kb`` KiB, 7 heatmaps of 1/8 of that and a 12 KiB thumbnail.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from db import Role, Station  # noqa: E402
from db.errors import StationDataError  # noqa: E402
from db.passwords import PasswordHasher  # noqa: E402
from db.schema import Inspection, PendingObject, SideResult  # noqa: E402
from db.stores.config import S3Location  # noqa: E402
from tests.db.pgcluster import Cluster  # noqa: E402
from tests.db.seaweed import Seaweed  # noqa: E402

PASSWORD = "site-benchmark-2026"
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
WORKER = ROOT / "benchmarks" / "site_worker.py"


@dataclass
class Run:
    tag: str
    lines: dict[str, list[str]] = field(default_factory=dict)
    page_ms: list[float] = field(default_factory=list)
    page_thumbs_ms: list[float] = field(default_factory=list)
    page_errors: int = 0
    wall_s: float = 0.0
    events: list[str] = field(default_factory=list)


def prepare(db_url: str, store_url: str, env: dict[str, str], root: Path) -> None:
    """The site's accounts and product, made once by a first station."""
    os.environ.update(env)
    st = Station.open(db_url, root / "setup", store=store_url, password_hasher=HASHER)
    try:
        admin = st.auth.create_first_admin("admin", PASSWORD)
        st.users.create(admin, "op1", PASSWORD, Role.OPERATOR)
        st.users.create(admin, "super", PASSWORD, Role.SUPERVISOR)
        w = st.warehouses.create(admin, "Hall A", 10**9)
        st.products.create(admin, "SITE-1", "Site product", w.id, 1000,
                           ("top", "bottom", "side-0", "side-60", "side-120", "side-180",
                            "side-240"))
    finally:
        st.close()


def start_worker(args: argparse.Namespace, db_url: str, store_url: str, env: dict[str, str],
                 root: Path, name: str, tag: str, run: Run) -> subprocess.Popen[str]:
    cmd = [sys.executable, str(WORKER), "--db-url", db_url, "--store-url", store_url,
           "--data-dir", str(root / name), "--name", name, "--run", tag, "--cans",
           str(args.cans), "--photo-kb", str(args.photo_kb)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
                            env={**os.environ, **env, "STATION_PASSWORD": PASSWORD,
                                 "PYTHONPATH": str(ROOT)})
    out = run.lines.setdefault(name, [])
    threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                     daemon=True).start()
    return proc


def gallery_watch(observer: Station, stop: threading.Event, run: Run) -> None:
    """Another station's supervisor pages the gallery and opens the page's thumbnails."""
    sup = observer.auth.sign_in("super", PASSWORD)
    while not stop.is_set():
        try:
            t = time.perf_counter()
            rows = observer.inspections.page(sup, None, "-started", 0, 50)
            run.page_ms.append((time.perf_counter() - t) * 1000)
            for row in rows:
                if row.thumbnail_path is not None:
                    observer.files.fetch(row.thumbnail_path)
            run.page_thumbs_ms.append((time.perf_counter() - t) * 1000)
        except StationDataError:
            run.page_errors += 1
        stop.wait(1.0)


def one_run(args: argparse.Namespace, db_url: str, store_url: str, env: dict[str, str],
            root: Path, weed: Seaweed, faults: bool) -> Run:
    run = Run(tag=("faults-" if faults else "steady-") + uuid.uuid4().hex[:6])
    observer = Station.open(db_url, root / f"observer-{run.tag}", store=store_url,
                            station_name=f"observer-{run.tag}", password_hasher=HASHER)
    stop = threading.Event()
    watcher = threading.Thread(target=gallery_watch, args=(observer, stop, run), daemon=True)
    names = [f"station-{k + 1}" for k in range(args.stations)]
    started = time.monotonic()
    procs = {n: start_worker(args, db_url, store_url, env, root, n, run.tag, run) for n in names}
    watcher.start()
    total = args.stations * args.cans
    killed = restarted_store = False
    while any(p.poll() is None for p in procs.values()):
        done = sum(len(v) for v in run.lines.values())
        if faults and not killed and done >= total // 4:
            victim = names[-1]
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            run.events.append(f"killed {victim} after {done} cans ({time.monotonic() - started:.1f} s)")
            procs[victim] = start_worker(args, db_url, store_url, env, root, victim, run.tag, run)
            killed = True
        if faults and killed and not restarted_store and done >= total // 2:
            weed.kill()
            run.events.append(f"object store killed after {done} cans "
                              f"({time.monotonic() - started:.1f} s)")
            time.sleep(args.outage_s)
            t = time.monotonic()
            weed.start()
            run.events.append(f"object store back after {args.outage_s:.0f} s down "
                              f"(restart took {time.monotonic() - t:.1f} s)")
            restarted_store = True
        time.sleep(0.2)
    run.wall_s = time.monotonic() - started
    stop.set()
    watcher.join()
    observer.close()
    failed = [n for n, p in procs.items() if p.returncode != 0]
    if failed:
        run.events.append(f"station processes that exited with an error: {failed}")
    return run


def check(db_url: str, store_url: str, weed: Seaweed, root: Path, run: Run,
          args: argparse.Namespace) -> dict[str, int]:
    """Rows and objects: what was asked for against what is there."""
    st = Station.open(db_url, root / f"check-{run.tag}", store=store_url, password_hasher=HASHER)
    try:
        with st.database.read() as s:
            keys = set(s.scalars(select(Inspection.capture_key)
                                 .where(Inspection.capture_key.like(f"{run.tag}-%"))))
            files = {(r.image_sha, r.image_ext) for r in s.execute(
                select(SideResult.image_sha, SideResult.image_ext).join(Inspection)
                .where(Inspection.capture_key.like(f"{run.tag}-%")))}
            files |= {(r.heatmap_sha, "png") for r in s.execute(
                select(SideResult.heatmap_sha).join(Inspection)
                .where(Inspection.capture_key.like(f"{run.tag}-%")))}
            files |= {(r.thumbnail_sha, r.thumbnail_ext) for r in s.execute(
                select(Inspection.thumbnail_sha, Inspection.thumbnail_ext)
                .where(Inspection.capture_key.like(f"{run.tag}-%")))}
            all_rows = {sha for (sha,) in s.execute(select(SideResult.image_sha))} | \
                {sha for (sha,) in s.execute(select(SideResult.heatmap_sha))} | \
                {sha for (sha,) in s.execute(select(Inspection.thumbnail_sha))}
            journal = len(s.scalars(select(PendingObject.id)).all())
        location = S3Location.parse(store_url)
        stored = {k.rsplit("/", 1)[-1] for k in weed.keys(location.bucket,
                                                           location.key("images/"))}
        orphans_before = len({n for n in stored if n.split(".")[0] not in all_rows})
        st.sweep_files(timedelta(0), full=True, confirmed=True)   # journal and listing
        stored_after = {k.rsplit("/", 1)[-1] for k in weed.keys(location.bucket,
                                                                 location.key("images/"))}
        orphans_after = len({n for n in stored_after if n.split(".")[0] not in all_rows})
    finally:
        st.close()
    asked = {f"{run.tag}-station-{k + 1}-{n:05d}" for k in range(args.stations)
             for n in range(args.cans)}
    review = {line.split()[1] for lines in run.lines.values() for line in lines
              if line.split()[3] == "review"}
    return {"recorded": len(keys), "review": len(review),
            "rows_lost": len(asked - keys - review),
            "objects_lost": len({f"{sha}.{ext}" for sha, ext in files} - stored_after),
            "journal_rows": journal, "orphans_before_sweep": orphans_before,
            "orphans_after_sweep": orphans_after}


def report(title: str, run: Run, figures: dict[str, int], args: argparse.Namespace) -> None:
    saves = [float(line.split()[4]) for lines in run.lines.values() for line in lines]
    saves.sort()
    p95 = saves[int(0.95 * (len(saves) - 1))] if saves else float("nan")
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    print(f"\n### {title}: {args.stations} stations x {args.cans} cans ({args.photo_kb} KiB "
          "photos)\n")
    for event in run.events:
        print(f"- {event}")
    print("\n| figure | value |\n|---|---:|")
    rows = [("cans recorded (rows with the run's keys)", figures["recorded"]),
            ("cans sent to review (save gave up)", figures["review"]),
            ("rows lost", figures["rows_lost"]), ("objects lost", figures["objects_lost"]),
            ("journal rows left (saves killed before their commit)", figures["journal_rows"]),
            ("orphan objects before the sweep", figures["orphans_before_sweep"]),
            ("orphan objects after the sweep", figures["orphans_after_sweep"]),
            ("wall time, s", f"{run.wall_s:.1f}"),
            ("throughput, cans/s (all stations)", f"{figures['recorded'] / run.wall_s:.1f}"),
            ("save per can, median ms", f"{1000 * med(saves):.0f}"),
            ("save per can, p95 ms", f"{1000 * p95:.0f}"),
            ("gallery page from another station (query), median ms", f"{med(run.page_ms):.1f}"),
            ("... with its 50 thumbnails fetched, median ms", f"{med(run.page_thumbs_ms):.0f}"),
            ("gallery pages that failed (store away)", run.page_errors)]
    for name, value in rows:
        print(f"| {name} | {value} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=4)
    ap.add_argument("--cans", type=int, default=250)
    ap.add_argument("--photo-kb", type=int, default=120)
    ap.add_argument("--outage-s", type=float, default=5.0)
    ap.add_argument("--skip-faults", action="store_true")
    args = ap.parse_args()
    cluster, weed = Cluster(), Seaweed()
    root = Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        db_url = cluster.start()
        weed.start()
        store_url = f"s3://{weed.new_bucket()}/site"
        env = weed.env()
        prepare(db_url, store_url, env, root)
        run = one_run(args, db_url, store_url, env, root, weed, faults=False)
        report("steady", run, check(db_url, store_url, weed, root, run, args), args)
        if not args.skip_faults:
            run = one_run(args, db_url, store_url, env, root, weed, faults=True)
            report("one station killed, the store killed and restarted", run,
                   check(db_url, store_url, weed, root, run, args), args)
    finally:
        weed.cleanup()
        cluster.stop()
        import shutil
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
