"""Station identity (issue 15): a name and an id per station, the station of each inspection, its
last contact and the model it runs; names unique however typed; a retired station's name free
again; revision 0004 back-fills the stations of older inspections."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from db import Station
from db.database import sqlite_url
from db.errors import PermissionDenied, StationNameTaken
from db.migrate import head_revision
from db.schema import Inspection
from db.services.stations import ID_FILE
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import FakeClock, new_inspection, populate
from tests.db.old_schema import FIXTURE_PASSWORD, execute, make_old_database, target_url


def test_a_station_registers_once_and_keeps_its_id(open_station: Callable[..., Station],
                                                   clock: FakeClock) -> None:
    first = open_station(station_name="line-1")
    uid = (first.data_dir / ID_FILE).read_text().strip()
    assert uuid.UUID(uid) and first.station_id is not None
    clock.advance(minutes=5)
    again = open_station(station_name="Line-1 renamed")      # same folder: same station
    assert again.station_id == first.station_id
    world = populate(again)
    [info] = again.stations.list(world.admin)
    assert info.name == "Line-1 renamed" and info.claimed and not info.retired
    assert info.last_contact == clock()
    assert [e.action for e in again.audit.list(world.admin)
            if e.action.startswith("station.")] == ["station.rename", "station.register"]


def test_each_can_names_its_station_and_the_model_it_ran(open_station: Callable[..., Station],
                                                         clock: FakeClock) -> None:
    station = open_station(station_name="line-1")
    world = populate(station)
    model = station.models.register(world.admin, "cam-effnet", "models/x", "cam", "effnet", "1.0",
                                    {}, {"review": 0.4, "reject": 0.6}, {})
    clock.advance(minutes=1)
    rec = station.inspections.record(world.operator, new_inspection(world.product_id, "a"))
    with station.database.read() as s:
        assert s.scalar(select(Inspection.station_id).where(Inspection.id == rec.id)) == \
            station.station_id
    [info] = station.stations.list(world.supervisor)
    assert (info.model_id, info.model_name, info.model_version) == (model.id, "cam-effnet", "1.0")
    assert info.product_sku == "BEANS-400" and info.model_since == info.last_contact == clock()
    clock.advance(minutes=3)
    station.stations.heartbeat(station.station_id)
    assert station.stations.list(world.admin)[0].last_contact == clock()
    assert station.stations.list(world.admin)[0].model_since < clock()
    with pytest.raises(PermissionDenied):
        station.stations.list(world.operator)


def test_two_stations_cannot_share_a_name(open_station: Callable[..., Station],
                                          db_url: str | None, tmp_path: Path) -> None:
    one = open_station(station_name="Line 1")
    world = populate(one)
    one.inspections.record(world.operator, new_inspection(world.product_id, "a"))
    other = tmp_path / "other-station"
    url = db_url or sqlite_url(one.data_dir)                  # the same database
    with pytest.raises(StationNameTaken) as e:
        Station.open(url, other, password_hasher=FAST_HASHER, station_name="line  1")
    assert "already named" in str(e.value) and "retire" in str(e.value)
    one.stations.retire(world.admin, one.station_id)         # the old machine is gone
    replacement = Station.open(url, other, password_hasher=FAST_HASHER, station_name="line  1")
    try:
        assert replacement.station_id == one.station_id       # it carries the history on
        [info] = replacement.stations.list(world.admin)
        assert not info.retired and info.name == "line  1"
    finally:
        replacement.close()


def test_revision_0004_finds_the_stations_of_older_inspections(db_url: str | None,
                                                               tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = target_url(db_url, data)
    make_old_database(url, "0003")
    # Three cans of the fixture at "line-1"; one more as "LINE-1" (the same station, typed
    # otherwise) and one at "line-2".
    execute(url, "UPDATE inspections SET station_name = 'LINE-1' WHERE id = 2",
            "UPDATE inspections SET station_name = 'line-2' WHERE id = 3")
    station = Station.open(db_url, data, password_hasher=FAST_HASHER)
    try:
        with station.database.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() \
                == head_revision()
            rows = conn.exec_driver_sql("SELECT id, station_id FROM inspections ORDER BY id"
                                        ).all()
        admin = station.auth.sign_in("admin", FIXTURE_PASSWORD)
        found = {s.name: s for s in station.stations.list(admin)}
        assert set(found) == {"line-1", "line-2"}
        assert not any(s.claimed for s in found.values())
        assert [r[1] for r in rows] == [found["line-1"].id, found["line-1"].id,
                                        found["line-2"].id]
        assert found["line-1"].last_contact is not None
    finally:
        station.close()
    # The station that was "line-1" starts again (a folder without an id yet): it takes the row.
    later = Station.open(db_url, data, password_hasher=FAST_HASHER, station_name="Line-1")
    try:
        assert later.station_id == found["line-1"].id
        new = later.inspections.record(admin, new_inspection(1, "after 0004"))
        with later.database.read() as s:
            assert s.scalar(select(Inspection.station_id).where(Inspection.id == new.id)) == \
                later.station_id
    finally:
        later.close()


def test_revision_0004_keeps_sqlite_ids_unique(tmp_path: Path) -> None:
    """The rebuild of ``inspections`` must not restart its AUTOINCREMENT sequence."""
    data = tmp_path / "data"
    url = target_url(None, data)
    make_old_database(url, "0003")
    execute(url, "DELETE FROM corrections WHERE inspection_id = 3",
            "DELETE FROM side_results WHERE inspection_id = 3",
            "DELETE FROM inspections WHERE id = 3")
    station = Station.open(None, data, password_hasher=FAST_HASHER)
    try:
        admin = station.auth.sign_in("admin", FIXTURE_PASSWORD)
        assert station.inspections.record(admin, new_inspection(1, "next")).id == 4
    finally:
        station.close()
