"""A PostgreSQL server that stops, restarts, freezes or drops the connection after committing
(issue 9 items 3, 8, 9): each call fails within seconds with a station error, nothing is lost, the
station recovers by itself, and a can recorded across a lost commit is recorded once.

These tests start a server of their own (they stop and freeze it); like every PostgreSQL test
they FAIL when no server can be started.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db import DatabaseUnavailable, Station
from db.database import Timeouts
from db.records import NewInspection
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import World, new_inspection, populate
from tests.db.pgcluster import Cluster
from tests.db.tcpproxy import Proxy

pytestmark = pytest.mark.postgres
QUICK = Timeouts(connect=2, statement=5, lock=3, idle_transaction=30, answer=2)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    try:
        c = Cluster()
        c.start()
    except Exception as exc:  # noqa: BLE001 - report any reason
        reason = f"could not start a PostgreSQL server for the tests: {exc}"
        pytest.fail(reason, pytrace=False)
    try:
        yield c
    finally:
        try:
            c.thaw()
        except Exception:  # noqa: BLE001 - it may be stopped already
            pass
        c.stop()


def _url(c: Cluster) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{c.port}/station_test"


def _open(url: str, data: Path) -> tuple[Station, World]:
    station = Station.open(url, data, password_hasher=FAST_HASHER, timeouts=QUICK)
    return station, populate(station)


def _keyed(world: World, seed: str, key: str | None = None) -> NewInspection:
    base = new_inspection(world.product_id, seed)
    return NewInspection(**{**base.__dict__, "capture_key": key or str(uuid.uuid4())})


def _fails_quickly(call, limit_s: float = 12.0) -> DatabaseUnavailable:
    t0 = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as e:
        call()
    assert time.monotonic() - t0 < limit_s
    return e.value


def test_a_stopped_server_is_a_clean_error_and_the_station_recovers(cluster: Cluster,
                                                                    tmp_path: Path) -> None:
    station, world = _open(_url(cluster), tmp_path / "data")
    kept = station.inspections.record(world.operator, _keyed(world, "before"))
    cluster.pg_stop()
    error = _fails_quickly(lambda: station.inspections.count(world.admin))
    assert "cannot be reached" in str(error) and "Nothing was saved" in str(error)
    _fails_quickly(lambda: station.inspections.record(world.operator, _keyed(world, "lost")))
    cluster.pg_start()
    assert station.inspections.count(world.admin) == 1          # back, without a restart
    assert station.inspections.get(world.admin, kept.id).id == kept.id
    assert not station.inspections.record(world.operator, _keyed(world, "after")).already_recorded
    station.close()


def test_a_frozen_server_fails_calls_within_seconds(cluster: Cluster, tmp_path: Path) -> None:
    station, world = _open(_url(cluster), tmp_path / "data")
    station.inspections.record(world.operator, _keyed(world, "before"))
    # A statement in flight on a connection that was fine a moment ago.
    with station.database.read() as s:
        s.execute(text("SELECT 1"))
        cluster.freeze()
        _fails_quickly(lambda: _run_in(station, s))
    # A new call: the pooled connection's check times out, a new connection too.
    _fails_quickly(lambda: station.warehouses.list(world.admin))
    _fails_quickly(lambda: station.inspections.record(world.operator, _keyed(world, "frozen")))
    cluster.thaw()
    assert station.inspections.count(world.admin) == 1
    assert station.database.watchdog is not None and station.database.watchdog.fired >= 1
    station.close()


def _run_in(station: Station, s) -> None:
    with station.database._translate():
        s.execute(text("SELECT 2"))


def test_a_can_is_recorded_once_across_a_lost_commit(cluster: Cluster, tmp_path: Path) -> None:
    """The server commits, the connection drops before the station hears it: record() finds its
    row by the capture key and returns it, instead of failing (and a retry saving it twice)."""
    proxy = Proxy(cluster.port)
    try:
        station, world = _open(proxy.url(_url(cluster)), tmp_path / "data")
        key = str(uuid.uuid4())
        proxy.drop_after_commit = 1
        info = station.inspections.record(world.operator, _keyed(world, "a", key))
        assert proxy.dropped == 1 and not info.already_recorded
        assert station.inspections.count(world.admin) == 1
        # When the server cannot be asked at once, the call fails; the caller's retry later
        # finds the row by its key: still one record.
        second = _keyed(world, "b")
        proxy.drop_after_commit = 1
        proxy.refusing = True          # new connections (the look-up's) are turned away
        _fails_quickly(lambda: station.inspections.record(world.operator, second))
        proxy.refusing = False
        retried = station.inspections.record(world.operator, second)
        assert retried.already_recorded and station.inspections.count(world.admin) == 2
        again = station.inspections.record(world.operator, _keyed(world, "a", key))
        assert again.already_recorded and again.id == info.id
        assert station.inspections.count(world.admin) == 2
        station.close()
    finally:
        proxy.close()
