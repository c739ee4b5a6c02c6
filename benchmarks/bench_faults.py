#!/usr/bin/env python3
"""Fault injection against the station's records (issue 9): repeat the attacks that once lost
data or leaked raw errors, with bounded loops, and count what happened.

    .venv/bin/python benchmarks/bench_faults.py                 # everything (PostgreSQL too)
    .venv/bin/python benchmarks/bench_faults.py --no-postgres   # on a machine without one
    .venv/bin/python benchmarks/bench_faults.py --kills 30 --fuzz 2000

Per attack it prints: tried, clean (the call succeeded, or failed with the station error meant for
it), wrong (any other exception type, or success where a refusal was due), hangs (no answer within
the limit), crashes (a process or a start-up that died), lost (committed rows or their files that
are gone, duplicated records). It exits 1 when any wrong/hangs/crashes/lost count is not zero.

Attacks: kill -9 of a process in the middle of recording; concurrent writer processes on one
SQLite file (with capture keys shared between them); a PostgreSQL server stopped, restarted,
frozen (SIGSTOP) and thawed; commits whose answer is lost (a TCP proxy drops the connection after
the server committed); a genuinely full disk (a small tmpfs when this runs as root, else ENOSPC
injected at the write); an empty, missing, replaced or foreign database beside a used data folder
(and a mistyped PostgreSQL database); random malformed input to record(). The engine's attacks
(malformed images and model folders) come from benchmarks/faults_engine.py when it is there.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from db import (DataFolderMismatch, DatabaseUnavailable, Station,  # noqa: E402
                StationDataError, StorageFull)
from db.database import Timeouts  # noqa: E402
from db.passwords import PasswordHasher  # noqa: E402
from db.records import NewInspection, NewSide  # noqa: E402
from tests.db.helpers import PNG, SIDES, new_inspection, populate  # noqa: E402

HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse"
QUICK = Timeouts(connect=2, statement=5, lock=3, idle_transaction=30, answer=3)
CALL_LIMIT_S = 20.0          # a call that takes longer is a hang


@dataclass
class Tally:
    name: str
    tried: int = 0
    clean: int = 0
    wrong: int = 0
    hangs: int = 0
    crashes: int = 0
    lost: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return self.wrong + self.hangs + self.crashes + self.lost

    def note(self, text: str) -> None:
        if len(self.notes) < 3:
            self.notes.append(text)


def bounded(call: Callable[[], object], limit_s: float = CALL_LIMIT_S
            ) -> tuple[str, object]:
    """Run ``call`` in a thread: ("ok", result), ("error", exception) or ("hang", None)."""
    box: dict = {}

    def run() -> None:
        try:
            box["ok"] = call()
        except BaseException as exc:  # noqa: BLE001 - classified by the caller
            box["error"] = exc
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit_s)
    if t.is_alive():
        return "hang", None
    return ("ok", box["ok"]) if "ok" in box else ("error", box["error"])


def expect(tally: Tally, call: Callable[[], object], allowed: tuple[type, ...] = (),
           must_fail: bool = False, limit_s: float = CALL_LIMIT_S) -> object:
    """One attempt: success (unless ``must_fail``) or an error of ``allowed`` types is clean."""
    tally.tried += 1
    kind, value = bounded(call, limit_s)
    if kind == "hang":
        tally.hangs += 1
        tally.note(f"no answer within {limit_s:.0f} s")
    elif kind == "ok" and not must_fail:
        tally.clean += 1
    elif kind == "error" and isinstance(value, allowed):
        tally.clean += 1
    else:
        tally.wrong += 1
        tally.note("succeeded" if kind == "ok" else f"{type(value).__name__}: {value}"[:120])
    return value


# -- checking the records -------------------------------------------------------------------
def files_of_every_row(station: Station) -> tuple[set[int], int]:
    """The inspection ids, and how many files their rows point to that are missing or wrong."""
    import hashlib
    missing = 0
    with station.database.engine.connect() as conn:
        ids = {r[0] for r in conn.execute(text("SELECT id FROM inspections"))}
        rows = conn.execute(text(
            "SELECT image_sha, image_ext, heatmap_sha FROM side_results")).all()
        thumbs = conn.execute(text("SELECT thumbnail_sha, thumbnail_ext FROM inspections "
                                   "WHERE thumbnail_sha IS NOT NULL")).all()
    wanted = [(s, e) for s, e, _h in rows] + [(h, "png") for _s, _e, h in rows if h] + thumbs
    for sha, ext in wanted:
        path = station.files.path(sha, ext)
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                missing += 1
        except OSError:
            missing += 1
    return ids, missing


def _age_all(folder: Path, seconds: float = 7200) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            t = p.stat().st_mtime - seconds
            os.utime(p, (t, t))


def _keyed(product_id: int, seed: str, key: str | None = None) -> NewInspection:
    base = new_inspection(product_id, seed)
    return NewInspection(**{**base.__dict__, "capture_key": key or str(uuid.uuid4())})


def _new_station(data: Path, url: str | None = None, **kw: object) -> Station:
    return Station.open(url, data, password_hasher=HASHER, **kw)


# -- attack: kill -9 while recording --------------------------------------------------------
CHILD = r"""
import sys, uuid, os
sys.path.insert(0, sys.argv[1])
from db import Station
from db.passwords import PasswordHasher
from db.records import NewInspection
from tests.db.helpers import new_inspection
st = Station.open(None, sys.argv[2], password_hasher=PasswordHasher(time_cost=1, memory_cost=8,
                  parallelism=1))
actor = st.auth.sign_in("otto", "correct horse")
product = int(sys.argv[3])
print("ready", flush=True)
n = 0
while True:
    n += 1
    base = new_inspection(product, f"{os.getpid()}-{n}", thumbnail=True)
    st.inspections.record(actor, NewInspection(**{**base.__dict__,
                                                  "capture_key": str(uuid.uuid4())}))
"""


def attack_kills(tmp: Path, kills: int, rng: random.Random) -> Tally:
    tally = Tally(f"kill -9 while recording ({kills} kills)")
    data = tmp / "kills"
    station = _new_station(data)
    world = populate(station)
    station.close()
    seen: set[int] = set()
    for _ in range(kills):
        tally.tried += 1
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(data),
                                 str(world.product_id)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            ready = proc.stdout.readline().strip() if proc.stdout else ""
            if ready != "ready":
                tally.crashes += 1
                tally.note((proc.stderr.read() if proc.stderr else "")[-200:])
                continue
            time.sleep(rng.uniform(0.3, 2.0))   # a few cans in, then mid-can
        finally:
            proc.kill()
            proc.wait(30)
        kind, value = bounded(lambda: _new_station(data, sweep_grace=timedelta(0)))
        if kind != "ok":
            tally.crashes += 1
            tally.note(f"restart after a kill: {value!r}"[:120])
            continue
        st = value
        try:
            ids, missing = files_of_every_row(st)
            lost_rows = len(seen - ids)
            tally.lost += lost_rows + missing
            if lost_rows or missing:
                tally.note(f"{lost_rows} rows and {missing} files gone after a kill")
            seen |= ids
            tally.clean += 1
        finally:
            st.close()
    tally.note(f"{len(seen)} inspections recorded across the kills")
    return tally


# -- attack: concurrent writers ---------------------------------------------------------------
WRITER = r"""
import sys, json, uuid, os, time
sys.path.insert(0, sys.argv[1])
from db import Station, StationDataError
from db.passwords import PasswordHasher
from db.records import NewInspection
from tests.db.helpers import new_inspection
st = Station.open(None, sys.argv[2], password_hasher=PasswordHasher(time_cost=1, memory_cost=8,
                  parallelism=1))
actor = st.auth.sign_in("otto", "correct horse")
product, n, shared = int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
while not os.path.exists(sys.argv[6]):
    time.sleep(0.01)
counts = {"ok": 0, "station_error": 0, "other": 0, "already": 0}
keys = [str(uuid.uuid4()) for _ in range(n)] + shared
for k, key in enumerate(keys):
    base = new_inspection(product, f"{os.getpid()}-{k}" if k < n else f"shared-{key}")
    try:
        info = st.inspections.record(actor, NewInspection(**{**base.__dict__, "capture_key": key}))
        counts["already" if info.already_recorded else "ok"] += 1
    except StationDataError:
        counts["station_error"] += 1
    except Exception:
        counts["other"] += 1
st.close()
print(json.dumps(counts), flush=True)
"""


def attack_writers(tmp: Path, writers: int = 3, each: int = 20, shared: int = 5) -> Tally:
    tally = Tally(f"{writers} concurrent writers, one SQLite file")
    data = tmp / "writers"
    station = _new_station(data)
    world = populate(station)
    station.close()
    keys = [str(uuid.uuid4()) for _ in range(shared)]
    go = tmp / "writers-go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT), str(data),
                               str(world.product_id), str(each), json.dumps(keys), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(writers)]
    time.sleep(2.0)           # let them all open the station
    go.write_text("go")
    total_ok = 0
    for p in procs:
        try:
            out, err = p.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            tally.hangs += 1
            continue
        if p.returncode != 0:
            tally.crashes += 1
            tally.note(err[-200:])
            continue
        counts = json.loads(out.strip().splitlines()[-1])
        tally.tried += each + shared
        tally.clean += counts["ok"] + counts["already"] + counts["station_error"]
        tally.wrong += counts["other"]
        total_ok += counts["ok"]
    st = _new_station(data)
    try:
        ids, missing = files_of_every_row(st)
        expected = total_ok        # every success is one row; shared keys gave one success each
        tally.lost += abs(len(ids) - expected) + missing
        if len(ids) > writers * each + shared:
            tally.note(f"{len(ids)} rows: a shared key was recorded twice")
        tally.note(f"{len(ids)} rows for {writers * each} own + {shared} shared captures")
    finally:
        st.close()
    return tally


# -- attack: PostgreSQL stopped, restarted, frozen, lost commits -------------------------------
def attack_postgres(tmp: Path) -> list[Tally]:
    from tests.db.pgcluster import Cluster
    from tests.db.tcpproxy import Proxy
    cluster = Cluster()
    url = cluster.start()
    stop, restart = Tally("PostgreSQL stopped"), Tally("PostgreSQL restarted")
    freeze, thaw = Tally("PostgreSQL frozen (SIGSTOP)"), Tally("PostgreSQL thawed (SIGCONT)")
    commits = Tally("commit answered, then connection lost")
    proxy = Proxy(cluster.port)
    try:
        station = _new_station(tmp / "pg", proxy.url(url), timeouts=QUICK)
        world = populate(station)
        actor = world.operator
        for k in range(5):
            station.inspections.record(actor, _keyed(world.product_id, f"base{k}"))
        baseline, _ = files_of_every_row(station)
        calls: list[Callable[[], object]] = [
            lambda: station.inspections.count(world.admin),
            lambda: station.inspections.record(actor, _keyed(world.product_id,
                                                             uuid.uuid4().hex)),
            lambda: station.warehouses.list(actor),
            lambda: station.auth.sign_in("otto", PASSWORD),
            lambda: station.stats.summary(world.supervisor)]
        cluster.pg_stop()
        for k in range(10):
            expect(stop, calls[k % len(calls)], (DatabaseUnavailable,), must_fail=True)
        cluster.pg_start()
        for k in range(10):
            expect(restart, calls[k % len(calls)])
        cluster.freeze()
        try:
            for k in range(10):
                expect(freeze, calls[k % len(calls)], (DatabaseUnavailable,), must_fail=True)
        finally:
            cluster.thaw()
        for k in range(10):
            expect(thaw, calls[k % len(calls)])
        before, _ = files_of_every_row(station)
        recorded = 0
        for k in range(10):
            proxy.drop_after_commit = 1
            info = expect(commits, lambda k=k: station.inspections.record(
                actor, _keyed(world.product_id, f"lost{k}")))
            recorded += 1 if getattr(info, "id", None) else 0
        after, missing = files_of_every_row(station)
        commits.lost += abs(len(after - before) - recorded) + missing
        commits.note(f"{proxy.dropped} connections dropped after a commit")
        gone = len(baseline - after)
        thaw.lost += gone
        station.close()
    finally:
        proxy.close()
        with contextlib.suppress(Exception):
            cluster.thaw()
        cluster.stop()
    return [stop, restart, freeze, thaw, commits]


# -- attack: a full disk ----------------------------------------------------------------------
@contextlib.contextmanager
def small_disk(tmp: Path, size: str = "3m") -> Iterator[tuple[Path, str]]:
    """A real small file system (tmpfs) when we may mount one; else a plain folder, and the
    caller injects ENOSPC at the write."""
    mnt = tmp / "full-disk"
    mnt.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
        capture_output=True).returncode == 0
    try:
        yield mnt, "a 3 MB tmpfs" if mounted else "ENOSPC injected at os.replace"
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)], capture_output=True)


def attack_full_disk(tmp: Path, attempts: int = 20) -> Tally:
    tally = Tally("full disk (photos, database, CSV export)")
    with small_disk(tmp) as (mnt, how):
        tally.note(how)
        data = mnt / "data"
        station = _new_station(data)
        world = populate(station)
        real_replace = os.replace
        injected = "injected" in how
        if injected:
            def full_replace(src, dst):  # noqa: ANN001, ANN202
                if ".tmp-" in str(src):
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real_replace(src, dst)
        for k in range(3):
            station.inspections.record(world.operator, _keyed(world.product_id, f"pre{k}"))
        if injected:
            os.replace = full_replace
        else:
            _fill(mnt / "ballast")
        try:
            before, missing_before = files_of_every_row(station)
            for k in range(attempts):
                expect(tally, lambda k=k: station.inspections.record(
                    world.operator, _keyed(world.product_id, f"full{k}")), (StorageFull,),
                       must_fail=True)
            if not injected:   # (injected ENOSPC hits the photos' renames only)
                expect(tally, lambda: station.inspections.export_csv(
                    world.supervisor, None, mnt / "export.csv"), (StorageFull,), must_fail=True)
            full = open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115 - closed below
            expect(tally, lambda: station.inspections.export_csv(world.supervisor, None, full),
                   (StorageFull,), must_fail=True)
            with contextlib.suppress(OSError):
                full.close()   # what could not be written is still in its buffer
        finally:
            os.replace = real_replace
        after, missing = files_of_every_row(station)
        tally.lost += len(before - after) + max(0, missing - missing_before)
        if (mnt / "export.csv").exists() or (mnt / "export.csv.part").exists():
            tally.lost += 1
            tally.note("a partial export was left behind")
        station.close()
        reopened = bounded(lambda: _new_station(data))
        if reopened[0] != "ok":
            tally.crashes += 1
            tally.note(f"no restart on the full disk: {reopened[1]!r}"[:120])
        else:
            reopened[1].close()
    return tally


def _fill(path: Path) -> None:
    """Take every byte the file system has left (big writes, then single bytes)."""
    with open(path, "wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    fh.write(b"\0" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break


# -- attack: empty and mismatched databases on a used data folder ------------------------------
def attack_mismatch(tmp: Path, pg_url: str | None) -> Tally:
    from tests.db.old_schema import make_old_database
    tally = Tally("empty / mismatched database on a used folder")
    used, other = tmp / "used", tmp / "other"
    for folder in (used, other):
        st = _new_station(folder)
        world = populate(st)
        for k in range(3):
            st.inspections.record(world.operator, new_inspection(world.product_id,
                                                                 f"{folder.name}{k}"))
        st.close()
    _age_all(used)
    photos = sorted(p for p in (used / "images").rglob("*") if p.is_file())
    original = (used / "station.sqlite3").read_bytes()
    old = tmp / "old-db"
    old.mkdir()
    make_old_database(f"sqlite:///{old / 'station.sqlite3'}", "0002")

    def reset() -> None:
        for p in used.glob("station.sqlite3*"):
            p.unlink()

    cases: list[tuple[str, Callable[[], None], str | None]] = [
        ("zero-byte file", lambda: (reset(), (used / "station.sqlite3").write_bytes(b"")), None),
        ("missing file", reset, None),
        ("another station's file", lambda: (reset(), shutil.copy(
            other / "station.sqlite3", used / "station.sqlite3")), None),
        ("a file of the previous release, other photos", lambda: (reset(), shutil.copy(
            old / "station.sqlite3", used / "station.sqlite3")), None)]
    if pg_url is not None:
        cases.append(("a fresh PostgreSQL database (a typo)", lambda: None, pg_url))
    for name, prepare, url in cases:
        prepare()
        expect(tally, lambda url=url: _new_station(used, url, sweep_grace=timedelta(0)),
               (DataFolderMismatch,), must_fail=True)
        gone = sum(1 for p in photos if not p.is_file())
        if gone:
            tally.lost += gone
            tally.note(f"{name}: {gone} photos removed")
    reset()
    (used / "station.sqlite3").write_bytes(original)
    st = bounded(lambda: _new_station(used))
    if st[0] != "ok":
        tally.crashes += 1
        tally.note(f"the right database no longer opens: {st[1]!r}"[:120])
    else:
        st[1].close()
    return tally


# -- attack: malformed input to record() ------------------------------------------------------
def attack_fuzz(tmp: Path, n: int, rng: random.Random) -> Tally:
    from db import ValidationError
    tally = Tally(f"malformed input to record() ({n} cans)")
    station = _new_station(tmp / "fuzz")
    world = populate(station)
    magic = [PNG, b"\xff\xd8\xff", b"BM", b"GIF89a", b"", b"\x00"]
    values = [0.1, -1.0, 2.0, float("nan"), float("inf"), True, "0.3", None]

    def side() -> NewSide:
        return NewSide(rng.choice([*SIDES, "lid", "", " top ", "\ud800"]),
                       rng.choice(magic) + rng.randbytes(rng.randint(0, 20)),
                       rng.choice(["png", "jpg", "gif", "", ".JPEG", "tif"]),
                       rng.choice([None, PNG, b"nope"]), rng.choice(values),
                       rng.choice(["Good", "Anomaly", "bad"]),
                       rng.choice(["pass", "review", "reject", "?"]),
                       rng.choice([[], [{"x0": 1}], [1], [{"x": float("nan")}]]),
                       rng.choice(["", "no can found", "\x00"]),
                       rng.choice([None, [[1, 2]], [[1]], [[1.5, 2]], "x"]))
    t0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    for k in range(n):
        new = NewInspection(
            product_id=rng.choice([world.product_id, world.product_id, 9999]),
            station_name=rng.choice(["line-1", "", "x" * 200]), started=t0,
            finished=t0 + timedelta(seconds=rng.choice([1, -1])), model_name="m",
            model_version="1", verdict=rng.choice(["pass", "review", "reject", "?"]),
            sides=[side() for _ in range(rng.randint(0, 8))],
            thumbnail_bytes=rng.choice([None, PNG + b"t", b"GIF89a"]),
            capture_key=rng.choice([None, str(uuid.uuid4()), "bad key", "k" * 80]))
        expect(tally, lambda new=new: station.inspections.record(world.operator, new),
               (ValidationError, StationDataError))
    station.close()
    return tally


# -- the engine's attacks (benchmarks/faults_engine.py, by the model helper) -------------------
def engine_attacks(tmp: Path) -> list[Tally]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import faults_engine  # type: ignore[import-not-found]
    except ImportError:
        # TODO(lead): wire benchmarks/faults_engine.py here once it is on main (its functions
        # return these counters: tried, clean, wrong, hangs, crashes, lost).
        print("engine attacks: benchmarks/faults_engine.py is not here yet (not counted)")
        return []
    out = []
    attacks = getattr(faults_engine, "ATTACKS", None) or [
        getattr(faults_engine, n) for n in sorted(dir(faults_engine)) if n.startswith("attack_")]
    for fn in attacks:
        result = fn(tmp)
        for item in result if isinstance(result, list) else [result]:
            values = item if isinstance(item, dict) else vars(item)
            t = Tally(str(values.get("name", fn.__name__)))
            for key in ("tried", "clean", "wrong", "hangs", "crashes", "lost"):
                setattr(t, key, int(values.get(key, 0)))
            out.append(t)
    return out


def print_table(tallies: list[Tally]) -> None:
    head = f"{'attack':<48} {'tried':>6} {'clean':>6} {'wrong':>6} {'hangs':>6} " \
           f"{'crash':>6} {'lost':>6}"
    print(head)
    print("-" * len(head))
    for t in tallies:
        print(f"{t.name[:48]:<48} {t.tried:>6} {t.clean:>6} {t.wrong:>6} {t.hangs:>6} "
              f"{t.crashes:>6} {t.lost:>6}")
        for n in t.notes:
            print(f"    {n}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--fuzz", type=int, default=2000)
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL attacks")
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args()
    # The station logs each fault it turns into an error; the table below is what counts.
    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(args.seed)
    tallies: list[Tally] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp_name:
        tmp = Path(tmp_name)
        tallies.append(attack_kills(tmp, args.kills, rng))
        tallies.append(attack_writers(tmp))
        pg_typo = None
        if not args.no_postgres:
            tallies += attack_postgres(tmp)
        tallies.append(attack_full_disk(tmp))
        cluster = None
        if not args.no_postgres:
            from tests.db.pgcluster import Cluster
            cluster = Cluster()
            pg_typo = cluster.start().rsplit("/", 1)[0] + "/a_typo"
            admin = create_engine(pg_typo.rsplit("/", 1)[0] + "/postgres",
                                  isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE a_typo"))
            admin.dispose()
        try:
            tallies.append(attack_mismatch(tmp, pg_typo))
        finally:
            if cluster is not None:
                cluster.stop()
        tallies.append(attack_fuzz(tmp, args.fuzz, rng))
        tallies += engine_attacks(tmp)
    print_table(tallies)
    bad = sum(t.bad for t in tallies)
    print(f"\n{len(tallies)} attacks, {sum(t.tried for t in tallies)} tries, "
          f"{time.monotonic() - t0:.0f} s: "
          + ("all clean." if not bad else f"{bad} bad outcomes."))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
