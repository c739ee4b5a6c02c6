#!/usr/bin/env python3
"""Fault injection against the station's records (issue 9): repeat the attacks that once lost
data or leaked raw errors, with bounded loops, and count what happened.

    .venv/bin/python benchmarks/bench_faults.py                 # everything (PostgreSQL too)
    .venv/bin/python benchmarks/bench_faults.py --no-postgres   # on a machine without one
    .venv/bin/python benchmarks/bench_faults.py --kills 30 --fuzz 2000 --images 2000 --models 200

Per attack it prints (and "max s", the longest single timed call): tried, clean (the call
succeeded, or failed with the station error meant for it), wrong (any other exception type, or
success where a refusal was due), hangs (no answer within
the limit), crashes (a process or a start-up that died), lost (committed rows or their files that
are gone, duplicated records). It exits 1 when any wrong/hangs/crashes/lost count is not zero.

Attacks: kill -9 of a process in the middle of recording; concurrent writer processes on one
SQLite file (with capture keys shared between them); a PostgreSQL server stopped, restarted,
frozen (SIGSTOP) and thawed; commits whose answer is lost (a TCP proxy drops the connection after
the server committed); a genuinely full disk (a small tmpfs when this runs as root, else ENOSPC
injected at the write); an empty, missing, replaced or foreign database beside a used data folder
(and a mistyped PostgreSQL database); random malformed input to record(). The engine's attacks
(malformed images and model folders) come from benchmarks/faults_engine.py.
The attacks live beside this script: faults_processes.py, faults_postgres.py, faults_records.py
(and faults_common.py, what they share).
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]   # the station's packages, and the attacks beside

from faults_common import Tally  # noqa: E402
from faults_postgres import attack_postgres  # noqa: E402
from faults_processes import attack_kills, attack_writers  # noqa: E402
from faults_records import attack_full_disk, attack_fuzz, attack_mismatch  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402


# -- the engine's attacks (benchmarks/faults_engine.py, by the model helper) -------------------
def engine_attacks(images: int, models: int, seed: int = 0) -> list[Tally]:
    """Malformed images through load_image and damaged model folders through load_model, each
    case in a worker process. Their counters map onto the table's: clean = the person-facing
    error or a harmless mutation that loaded; wrong = another error type, or changed weights
    that loaded undetected; crashes include runaway memory."""
    from benchmarks.faults_engine import ATTACKS
    out = []
    for (name, attack), n in zip(ATTACKS.items(), (images, models)):
        c = attack(n, seed=seed)
        t = Tally(f"{name} ({n})", tried=c["tried"], clean=c["clean_errors"] + c["accepted"],
                  wrong=c["wrong_types"] + c["undetected"], hangs=c["hangs"],
                  crashes=c["crashes"] + c["memory"])
        t.note(f"{c['clean_errors']} refused as unreadable/invalid, {c['accepted']} harmless "
               f"mutations loaded; worker peak {c['worker_peak_rss_mb']} MB, {c['seconds']} s")
        for example in c["examples"][:2]:
            t.note(example)
        out.append(t)
    return out


def guarded(name: str, attack: Callable[[], Tally | list[Tally]]) -> list[Tally]:
    """Run one attack; if the attack itself breaks, that is one crash in the table, and the
    other attacks still run."""
    try:
        result = attack()
    except Exception as exc:  # noqa: BLE001 - reported in the table
        t = Tally(name, crashes=1)
        t.note(f"the attack broke: {type(exc).__name__}: {exc}"[:150])
        return [t]
    return result if isinstance(result, list) else [result]


def print_table(tallies: list[Tally]) -> None:
    head = f"{'attack':<48} {'tried':>6} {'clean':>6} {'wrong':>6} {'hangs':>6} " \
           f"{'crash':>6} {'lost':>6} {'max s':>6}"
    print(head)
    print("-" * len(head))
    for t in tallies:
        slowest = f"{t.slowest_s:.1f}" if t.slowest_s else "-"
        print(f"{t.name[:48]:<48} {t.tried:>6} {t.clean:>6} {t.wrong:>6} {t.hangs:>6} "
              f"{t.crashes:>6} {t.lost:>6} {slowest:>6}")
        for n in t.notes:
            print(f"    {n}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--fuzz", type=int, default=2000)
    ap.add_argument("--images", type=int, default=2000, help="malformed images (engine)")
    ap.add_argument("--models", type=int, default=200, help="malformed model folders (engine)")
    ap.add_argument("--no-engine", action="store_true", help="skip the engine's attacks")
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
        tallies += guarded("kill -9 while recording", lambda: attack_kills(tmp, args.kills, rng))
        tallies += guarded("concurrent writers", lambda: attack_writers(tmp))
        pg_typo = None
        if not args.no_postgres:
            tallies += guarded("PostgreSQL", lambda: attack_postgres(tmp))
        tallies += guarded("full disk", lambda: attack_full_disk(tmp))
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
            tallies += guarded("mismatched databases", lambda: attack_mismatch(tmp, pg_typo))
        finally:
            if cluster is not None:
                cluster.stop()
        tallies += guarded("malformed input", lambda: attack_fuzz(tmp, args.fuzz, rng))
        if not args.no_engine:
            # The engine's own seed (0): its figures in docs/ENGINE.md are for that one.
            tallies += guarded("engine attacks", lambda: engine_attacks(args.images, args.models))
    print_table(tallies)
    bad = sum(t.bad for t in tallies)
    print(f"\n{len(tallies)} attacks, {sum(t.tried for t in tallies)} tries, "
          f"{time.monotonic() - t0:.0f} s: "
          + ("all clean." if not bad else f"{bad} bad outcomes."))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
