"""The statistics' hourly counts (db.rollup): kept exact through recording, corrections and
deletions, under concurrent writers, back-filled by the upgrade; the statistics read them when
a filter allows and the rows otherwise, with the same answers. Each test runs on SQLite and on
a real PostgreSQL server."""
from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from db import GalleryFilter, Role, Station
from db.rollup import differences, rebuild
from db.schema import StatsHour, StatsSideHour
from db.services.stats import StatsService
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import PASSWORD, SIDES, World, new_inspection
from tests.db.old_schema import make_old_database, target_url

T0 = datetime(2026, 3, 2, 20, 0, tzinfo=timezone.utc)


def _every_answer(stats: StatsService, actor, f: GalleryFilter | None) -> dict:
    return {"summary": stats.summary(actor, f), "per_day": stats.per_day(actor, f),
            "per_product": stats.per_product(actor, f), "per_operator": stats.per_operator(actor, f),
            "per_side": stats.per_side(actor, f), "per_hour": stats.per_hour(actor, f),
            "per_hour_sides": stats.per_hour(actor, f, sides=True)}


def _filters(world: World, other_product: int, other_warehouse: int) -> list[GalleryFilter | None]:
    d0 = T0.astimezone().date()
    return [None, GalleryFilter(product_id=world.product_id),
            GalleryFilter(product_id=other_product, date_from=d0, date_to=d0 + timedelta(days=1)),
            GalleryFilter(warehouse_id=other_warehouse), GalleryFilter(verdict="reject"),
            GalleryFilter(verdict="pass", product_id=world.product_id),
            GalleryFilter(operator_id=world.operator.user_id),
            GalleryFilter(date_from=d0 + timedelta(days=1)), GalleryFilter(date_to=d0),
            GalleryFilter(date_from=d0 + timedelta(days=5))]


def _same_answers(station: Station, world: World, filters: list[GalleryFilter | None]) -> None:
    raw = StatsService(station.database, rollup=False)
    for f in filters:
        assert _every_answer(station.stats, world.supervisor, f) == \
            _every_answer(raw, world.supervisor, f), f


def _no_differences(station: Station) -> None:
    with station.database.read() as s:
        assert differences(s) == []


def test_random_history_keeps_the_counts_exact(station: Station, world: World) -> None:
    """Recordings at random times (some on a day's edge), can and side corrections, single and
    batch deletions in a random order: the counts equal the rows after every step, and every
    statistic answers the same from the counts as from the rows."""
    rng = random.Random(15)
    hall_b = station.warehouses.create(world.admin, "Hall B", 1000).id
    peas = station.products.create(world.admin, "PEAS", "Peas", hall_b, 0, SIDES).id
    recorders = [world.operator, world.operator2, world.supervisor]
    ids: list[int] = []
    for step in range(70):
        action = rng.random()
        if action < 0.55 or len(ids) < 5:
            product = rng.choice([world.product_id, peas])
            verdict = rng.choice(["pass", "pass", "review", "reject"])
            bad = tuple(rng.sample(SIDES, rng.randint(1, 2))) if verdict != "pass" else ()
            new = new_inspection(product, f"r{step}", verdict,
                                 T0 + timedelta(minutes=rng.randrange(0, 3 * 24 * 60)),
                                 bad_sides=bad)
            ids.append(station.inspections.record(rng.choice(recorders), new).id)
        elif action < 0.70:
            station.corrections.correct_can(world.supervisor, rng.choice(ids),
                                            rng.choice(["pass", "review", "reject"]))
        elif action < 0.85:
            side = rng.choice(station.inspections.get(world.supervisor, rng.choice(ids)).sides)
            station.corrections.correct_side(world.supervisor, side.id,
                                             rng.choice(["Good", "Anomaly"]))
        elif action < 0.93:
            gone = ids.pop(rng.randrange(len(ids)))
            station.inspections.delete(world.admin, gone, "a test can")
        else:
            batch = rng.sample(ids, 3)
            station.inspections.delete_many(world.admin, batch, "a test batch")
            ids = [i for i in ids if i not in batch]
        _no_differences(station)
    with station.database.read() as s:   # the history was not trivial
        assert s.scalar(select(func.count()).select_from(StatsHour)) > 10
        assert s.scalar(select(func.sum(StatsSideHour.anomaly))) > 0
    _same_answers(station, world, _filters(world, peas, hall_b))


def test_a_changed_count_is_found_and_rebuilt(station: Station, world: World) -> None:
    for n in range(3):
        station.inspections.record(world.operator, new_inspection(
            world.product_id, str(n), "reject", T0 + timedelta(hours=n), bad_sides=("top",)))
    with station.database.write() as s:
        s.execute(text("UPDATE stats_side_hours SET anomaly = anomaly + 2 WHERE side_name = 'top'"))
        s.execute(text("DELETE FROM stats_hours WHERE hour = (SELECT min(hour) FROM stats_hours)"))
    with station.database.read() as s:
        found = differences(s)
    assert len(found) == 4, found     # three side rows, one can row
    assert any(line.startswith("cans") and "stored none" in line for line in found)
    with station.database.write() as s:
        assert rebuild(s) == (3, 3 * len(SIDES))
    _no_differences(station)


def test_two_writers_in_one_hour_count_every_can(station: Station, world: World) -> None:
    """Four threads record into the same product, hour and operator at once (on PostgreSQL
    real concurrent transactions, each upserting the same count rows): nothing is lost."""
    per_thread, threads = 12, 4
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def record(k: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                station.inspections.record(world.operator, new_inspection(
                    world.product_id, f"t{k}-{n}", "reject" if n % 3 == 0 else "pass",
                    T0 + timedelta(minutes=n), bad_sides=("top",) if n % 3 == 0 else ()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=record, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with station.database.read() as s:
        rows = s.execute(select(StatsHour.total, StatsHour.reject)).all()
        tops = s.execute(select(StatsSideHour.sides, StatsSideHour.anomaly)
                         .where(StatsSideHour.side_name == "top")).all()
    assert rows == [(per_thread * threads, 4 * threads)]
    assert tops == [(per_thread * threads, 4 * threads)]
    _no_differences(station)


def test_concurrent_processes_on_postgres_count_every_can(postgres_server: str, tmp_path: Path
                                                          ) -> None:
    """Two station processes (separate connections, separate pools; one data folder) record
    into one hour at once; the counts hold every can."""
    import multiprocessing

    from tests.db.conftest import _reset_postgres
    _reset_postgres(postgres_server)
    first = Station.open(postgres_server, tmp_path / "a", password_hasher=FAST_HASHER)
    try:
        admin = first.auth.create_first_admin("admin", PASSWORD)
        first.users.create(admin, "otto", PASSWORD, Role.OPERATOR)
        w = first.warehouses.create(admin, "Hall A", 1000)
        product = first.products.create(admin, "BEANS", "Beans", w.id, 0, SIDES).id
    finally:
        first.close()
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    ready = [ctx.Event() for _ in range(2)]
    procs = [ctx.Process(target=_record_in_process,
                         args=(postgres_server, str(tmp_path / "a"), product, k, 15, ready[k], go))
             for k in range(2)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 120
    for p, r in zip(procs, ready):     # both signed in (spawn imports take a while) before "go"
        while not r.wait(0.5):
            assert p.is_alive(), f"a recording process ended before it was ready ({p.exitcode})"
            assert time.monotonic() < deadline, "a recording process was not ready in 120 s"
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    station = Station.open(postgres_server, tmp_path / "a", password_hasher=FAST_HASHER)
    try:
        with station.database.read() as s:
            assert s.execute(select(StatsHour.total)).scalars().all() == [30]
            assert differences(s) == []
    finally:
        station.close()


def _record_in_process(url: str, data: str, product: int, k: int, n: int, ready, go) -> None:
    station = Station.open(url, Path(data), password_hasher=FAST_HASHER)
    try:
        otto = station.auth.sign_in("otto", PASSWORD)
        ready.set()
        assert go.wait(60), "the test never said go"
        for m in range(n):
            station.inspections.record(otto, new_inspection(product, f"p{k}-{m}", "pass",
                                                            T0 + timedelta(minutes=m)))
    finally:
        station.close()


def test_upgrade_back_fills_the_counts(db_url: str | None, tmp_path: Path) -> None:
    """A database of revision 0005 with inspections and corrections upgrades to counts that
    equal its rows."""
    data = tmp_path / "data"
    make_old_database(target_url(db_url, data), "0005")
    station = Station.open(db_url, data, password_hasher=FAST_HASHER)
    try:
        with station.database.read() as s:
            assert s.scalar(select(func.sum(StatsHour.total))) == 3
            assert s.scalar(select(func.sum(StatsSideHour.sides))) == 21
            assert differences(s) == []
        admin = station.auth.sign_in("admin", "first-release-pw")
        raw = StatsService(station.database, rollup=False)
        for f in (None, GalleryFilter(product_id=1), GalleryFilter(verdict="pass")):
            assert _every_answer(station.stats, admin, f) == _every_answer(raw, admin, f)
    finally:
        station.close()


@pytest.fixture
def kolkata() -> Iterator[None]:
    """The station's clock in India (UTC+05:30): local midnights fall on half hours."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_filters_the_counts_cannot_answer_read_the_rows(station: Station, world: World,
                                                        kolkata: None) -> None:
    """With the counts made wrong on purpose, the answers that must come from the rows are still
    right (an operator's sides; days whose midnights are half hours), and the ones that come
    from the counts show the change (so this test knows which path answered)."""
    for n in range(4):
        station.inspections.record(world.operator, new_inspection(
            world.product_id, str(n), "reject", T0 + timedelta(hours=n), bad_sides=("top",)))
    raw = StatsService(station.database, rollup=False)
    sup = world.supervisor
    day = (T0 + timedelta(hours=1)).astimezone().date()
    by_operator = GalleryFilter(operator_id=world.operator.user_id)
    dated = GalleryFilter(date_from=day, date_to=day)
    with station.database.write() as s:
        s.execute(text("UPDATE stats_side_hours SET anomaly = anomaly + 10"))
        s.execute(text("UPDATE stats_hours SET reject = reject + 10, total = total + 10"))
    assert station.stats.per_side(sup, by_operator) == raw.per_side(sup, by_operator)
    assert station.stats.per_side(sup, by_operator)[-1].rejected == 4
    assert station.stats.summary(sup, dated) == raw.summary(sup, dated)
    assert station.stats.per_hour(sup, dated, sides=True) == raw.per_hour(sup, dated, sides=True)
    # ... while these read the (now wrong) counts:
    assert station.stats.summary(sup).rejected == raw.summary(sup).rejected + 10 * 4
    assert station.stats.per_day(sup, dated) != raw.per_day(sup, dated)
    assert station.stats.per_side(sup) != raw.per_side(sup)


def test_days_in_a_whole_hour_zone_use_the_counts(station: Station, world: World) -> None:
    """Where local midnight is a whole UTC hour (the test machine's zone), a period of days
    is answered from the counts."""
    if datetime.combine(date(2026, 3, 2), datetime.min.time()).astimezone().utcoffset() \
            % timedelta(hours=1):
        pytest.fail("this test needs a whole-hour time zone")
    station.inspections.record(world.operator, new_inspection(world.product_id, "x", "reject",
                                                              T0, bad_sides=("top",)))
    with station.database.write() as s:
        s.execute(text("UPDATE stats_hours SET reject = reject + 10, total = total + 10"))
    d = T0.astimezone().date()
    assert station.stats.summary(world.supervisor,
                                 GalleryFilter(date_from=d, date_to=d)).rejected == 11


def test_a_can_just_before_the_hour_counts_in_that_hour(station: Station, world: World) -> None:
    """SQLite's date functions round to milliseconds (13:59:59.9999 would read as 14:00): the
    hour is cut from the stored time instead, the same in the counts, the rows and Python."""
    edge = datetime(2026, 3, 2, 13, 59, 59, 999900, tzinfo=timezone.utc)
    for n, started in enumerate((edge, edge + timedelta(microseconds=100))):
        station.inspections.record(world.operator, new_inspection(world.product_id, str(n),
                                                                  started=started))
    with station.database.write() as s:
        rebuild(s)
    _no_differences(station)
    raw = StatsService(station.database, rollup=False)
    for stats in (station.stats, raw):
        hours = stats.per_hour(world.supervisor, GalleryFilter(product_id=world.product_id))
        assert [(h.hour.hour, h.total) for h in hours] == [(13, 1), (14, 1)]
