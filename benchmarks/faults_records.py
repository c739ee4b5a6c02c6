"""Fault attacks on one station's records (benchmarks/bench_faults.py): a genuinely full disk,
empty and mismatched databases beside a used data folder, malformed input to record()."""
from __future__ import annotations

import contextlib
import errno
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from faults_common import Tally, age_all, bounded, expect, files_of_every_row, keyed, new_station

from db import DataFolderMismatch, StationDataError, StorageFull, ValidationError
from db.records import NewInspection, NewSide
from tests.db.helpers import PNG, SIDES, new_inspection, populate


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
        station = new_station(data)
        world = populate(station)
        real_replace = os.replace
        injected = "injected" in how
        if injected:
            def full_replace(src, dst):
                if ".tmp-" in str(src):
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real_replace(src, dst)
        for k in range(3):
            station.inspections.record(world.operator, keyed(world.product_id, f"pre{k}"))
        if injected:
            os.replace = full_replace
        else:
            _fill(mnt / "ballast")
        try:
            before, missing_before = files_of_every_row(station)
            for k in range(attempts):
                expect(tally, lambda k=k: station.inspections.record(
                    world.operator, keyed(world.product_id, f"full{k}")), (StorageFull,),
                       must_fail=True)
            if not injected:   # (injected ENOSPC hits the photos' renames only)
                expect(tally, lambda: station.inspections.export_csv(
                    world.supervisor, None, mnt / "export.csv"), (StorageFull,), must_fail=True)
            full = open("/dev/full", "w", encoding="utf-8")
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
        reopened = bounded(lambda: new_station(data))
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
    from tests.db.old_schema import make_old_database  # the previous release's schema
    tally = Tally("empty / mismatched database on a used folder")
    used, other = tmp / "used", tmp / "other"
    for folder in (used, other):
        st = new_station(folder)
        world = populate(st)
        for k in range(3):
            st.inspections.record(world.operator, new_inspection(world.product_id,
                                                                 f"{folder.name}{k}"))
        st.close()
    age_all(used)
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
        expect(tally, lambda url=url: new_station(used, url, sweep_grace=timedelta(0)),
               (DataFolderMismatch,), must_fail=True)
        gone = sum(1 for p in photos if not p.is_file())
        if gone:
            tally.lost += gone
            tally.note(f"{name}: {gone} photos removed")
    reset()
    (used / "station.sqlite3").write_bytes(original)
    st = bounded(lambda: new_station(used))
    if st[0] != "ok":
        tally.crashes += 1
        tally.note(f"the right database no longer opens: {st[1]!r}"[:120])
    else:
        st[1].close()
    return tally


# -- attack: malformed input to record() ------------------------------------------------------
def attack_fuzz(tmp: Path, n: int, rng: random.Random) -> Tally:
    tally = Tally(f"malformed input to record() ({n} cans)")
    station = new_station(tmp / "fuzz")
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
    for _ in range(n):
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


