"""Fault attacks on PostgreSQL (benchmarks/bench_faults.py): a throw-away server stopped,
restarted, frozen (SIGSTOP) and thawed, and commits whose answer a TCP proxy drops."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from pathlib import Path

from faults_common import PASSWORD, QUICK, Tally, expect, files_of_every_row, keyed, new_station

from db import DatabaseUnavailable
from tests.db.helpers import populate


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
        station = new_station(tmp / "pg", proxy.url(url), timeouts=QUICK)
        world = populate(station)
        actor = world.operator
        for k in range(5):
            station.inspections.record(actor, keyed(world.product_id, f"base{k}"))
        baseline, _ = files_of_every_row(station)
        calls: list[Callable[[], object]] = [
            lambda: station.inspections.count(world.admin),
            lambda: station.inspections.record(actor, keyed(world.product_id,
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
                actor, keyed(world.product_id, f"lost{k}")))
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


