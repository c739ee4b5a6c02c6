"""Three station processes record at once against one real PostgreSQL and one real SeaweedFS; one
is killed in the middle of its saves and started again; the object store is killed and started
again mid-run. Every can ends up recorded exactly once with all its objects, and after the sweep
no object is left that no row names (benchmarks/site_worker.py is the station process)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import Role, Station
from db.schema import Inspection, PendingObject, SideResult
from db.stores.config import S3Location
from tests.db.conftest import FAST_HASHER
from tests.db.seaweed import Seaweed

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "site-processes-2026"
STATIONS, CANS = 3, 24

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _setup(pg_url: str, store_url: str, data: Path) -> None:
    st = Station.open(pg_url, data, store=store_url, password_hasher=FAST_HASHER)
    try:
        admin = st.auth.create_first_admin("admin", PASSWORD)
        st.users.create(admin, "op1", PASSWORD, Role.OPERATOR)
        w = st.warehouses.create(admin, "Hall A", 10**6)
        st.products.create(admin, "SITE-1", "Site product", w.id, 10,
                           ("top", "bottom", "side-0", "side-60", "side-120", "side-180",
                            "side-240"))
    finally:
        st.close()


def _worker(pg_url: str, store_url: str, env: dict[str, str], data: Path, name: str,
            out: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "site_worker.py"), "--db-url", pg_url,
         "--store-url", store_url, "--data-dir", str(data / name), "--name", name, "--run",
         "t", "--cans", str(CANS), "--photo-kb", "16", "--store-wait-s", "10",
         "--give-up-s", "240"],
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, **env, "STATION_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)})
    threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                     daemon=True).start()
    return proc


def _wait_for(lines: dict[str, list[str]], count: int, procs: dict, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sum(len(v) for v in lines.values()) < count:
        assert time.monotonic() < deadline, f"stations stalled at {lines}"
        assert any(p.poll() is None for p in procs.values()), "every station process ended"
        time.sleep(0.1)


def test_station_processes_survive_a_kill_and_a_store_restart(pg_url: str, own_seaweed: Seaweed,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    store_url = f"s3://{own_seaweed.new_bucket()}/site"
    for key, value in own_seaweed.env().items():
        monkeypatch.setenv(key, value)
    _setup(pg_url, store_url, tmp_path / "setup")
    names = [f"line-{k}" for k in range(1, STATIONS + 1)]
    lines: dict[str, list[str]] = {n: [] for n in names}
    env = own_seaweed.env()
    procs = {n: _worker(pg_url, store_url, env, tmp_path, n, lines[n]) for n in names}
    try:
        _wait_for(lines, STATIONS * CANS // 4, procs, 300)
        victim = names[-1]
        procs[victim].send_signal(signal.SIGKILL)           # in the middle of its saves
        procs[victim].wait()
        done_before_kill = len(lines[victim])
        procs[victim] = _worker(pg_url, store_url, env, tmp_path, victim, lines[victim])
        _wait_for(lines, STATIONS * CANS // 2, procs, 300)
        own_seaweed.kill()                                   # the store goes away mid-run...
        time.sleep(2)
        own_seaweed.start()                                  # ...and comes back
        for p in procs.values():
            assert p.wait(timeout=400) == 0
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
    statuses = [line.split()[3] for v in lines.values() for line in v]
    assert "review" not in statuses                          # nothing given up
    again = [line for line in lines[victim] if line.split()[3] == "again"]
    assert len(again) >= done_before_kill                    # the restart found its cans
    expected = {f"t-{n}-{i:05d}" for n in names for i in range(CANS)}
    check = Station.open(pg_url, tmp_path / "check", store=store_url, password_hasher=FAST_HASHER)
    try:
        with check.database.read() as s:
            keys = list(s.scalars(select(Inspection.capture_key)))
            shas = {f"{sha}.{ext}" for sha, ext in s.execute(
                select(SideResult.image_sha, SideResult.image_ext))}
            shas |= {f"{sha}.png" for (sha,) in s.execute(select(SideResult.heatmap_sha))}
            shas |= {f"{sha}.{ext}" for sha, ext in s.execute(
                select(Inspection.thumbnail_sha, Inspection.thumbnail_ext))}
            stations = dict(s.execute(select(Inspection.station_name,
                                             func.count(Inspection.id))
                                      .group_by(Inspection.station_name)).all())
        assert sorted(keys) == sorted(expected)              # each can once, none lost
        assert stations == {n: CANS for n in names}
        location = S3Location.parse(store_url)

        def stored() -> set[str]:
            return {k.rsplit("/", 1)[-1]
                    for k in own_seaweed.keys(location.bucket, location.key("images/"))}
        assert shas <= stored()                              # no row lost an object
        check.sweep_files(timedelta(0), full=True, confirmed=True)
        assert stored() == shas                              # and no object is left over
        with check.database.read() as s:
            assert s.scalar(select(func.count(PendingObject.id))) == 0
    finally:
        check.close()
