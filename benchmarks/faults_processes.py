"""Fault attacks with processes (benchmarks/bench_faults.py): kill -9 in the middle of recording,
and several writer processes on one SQLite file sharing capture keys."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from faults_common import ROOT, Tally, bounded, files_of_every_row, new_station

from tests.db.helpers import populate

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
    station = new_station(data)
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
        kind, value = bounded(lambda: new_station(data, sweep_grace=timedelta(0)))
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
    station = new_station(data)
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
    st = new_station(data)
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


