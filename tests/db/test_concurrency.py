"""Two station processes write to one database at the same time without losing a row."""
from __future__ import annotations

import multiprocessing as mp
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import Station
from db.schema import Inspection, SideResult
from tests.db.helpers import PASSWORD, World, new_inspection

PER_PROCESS = 25


def _writer(url: str | None, data_dir: str, username: str, product_id: int, start,
            root: str) -> None:
    sys.path.insert(0, root)
    from tests.db.conftest import FAST_HASHER
    station = Station.open(url, Path(data_dir), password_hasher=FAST_HASHER)
    try:
        actor = station.auth.sign_in(username, PASSWORD)
        start.wait(timeout=60)   # both begin together, so their writes overlap
        for n in range(PER_PROCESS):
            station.inspections.record(actor, new_inspection(product_id, f"{username}-{n}"))
    finally:
        station.close()


@pytest.mark.slow
def test_two_processes_write_at_once(db_url: str | None, data_dir: Path, station: Station,
                                     world: World) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    root = str(Path(__file__).resolve().parents[2])
    procs = [ctx.Process(target=_writer, args=(db_url, str(data_dir), name, world.product_id,
                                               start, root))
             for name in ("otto", "olga")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0, 0]
    with station.database.read() as s:
        assert s.execute(select(func.count(Inspection.id))).scalar_one() == 2 * PER_PROCESS
        assert s.execute(select(func.count(SideResult.id))).scalar_one() == 14 * PER_PROCESS
        by_operator = dict(s.execute(select(Inspection.operator_id, func.count())
                                     .group_by(Inspection.operator_id)).all())
    assert by_operator == {world.operator.user_id: PER_PROCESS,
                           world.operator2.user_id: PER_PROCESS}


def test_one_station_shared_by_threads(station: Station, world: World) -> None:
    """Services are called from GUI workers: several threads on one Station at once."""
    from concurrent.futures import ThreadPoolExecutor

    def work(n: int) -> int:
        info = station.inspections.record(world.operator, new_inspection(world.product_id,
                                                                         f"thread-{n}"))
        station.inspections.page(world.supervisor)
        station.stats.summary(world.supervisor)
        return info.id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(work, range(12)))
    assert len(set(ids)) == 12
    assert station.inspections.count(world.supervisor) == 12
