"""Several stations, one site: one PostgreSQL server and one SeaweedFS (S3), both real. Photos a
station records open at any other; the store is tied to its database; a save that dies between
its uploads and its commit leaves journal rows that the sweep clears after the grace period, and
no sweep takes an object another station is still writing."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import DataFolderMismatch, Station
from db.errors import ImageStoreUnavailable
from db.schema import Inspection, PendingObject
from db.services import pending
from db.services.inspections import InspectionService
from db.stores.config import S3Access, S3Location
from db.stores.s3 import S3Store
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import FakeClock, new_inspection, populate
from tests.db.seaweed import Seaweed

pytestmark = pytest.mark.postgres


class Boom(Exception):
    pass


@pytest.fixture
def site(pg_url: str, s3_url: str, tmp_path: Path, clock: FakeClock
         ) -> Iterator[Callable[..., Station]]:
    """``site(name)`` opens a station of the site: its own data folder, the shared database and
    photo store."""
    opened: list[Station] = []

    def _open(name: str = "line-1", **kwargs: object) -> Station:
        kwargs.setdefault("now", clock)
        kwargs.setdefault("store", s3_url)
        st = Station.open(pg_url, tmp_path / name, password_hasher=FAST_HASHER,
                          station_name=name, **kwargs)   # type: ignore[arg-type]
        opened.append(st)
        return st

    yield _open
    for st in opened:
        st.close()


def _keys(server: Seaweed, url: str, sub: str = "images/") -> list[str]:
    location = S3Location.parse(url)
    return server.keys(location.bucket, location.key(sub))


def _count(station: Station, table: type) -> int:
    with station.database.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_photo_recorded_at_one_station_opens_at_another(site: Callable[..., Station],
                                                          seaweed_server: Seaweed,
                                                          s3_url: str) -> None:
    one = site("line-1")
    world = populate(one)
    rec = one.inspections.record(world.operator, new_inspection(world.product_id, "a",
                                                                thumbnail=True))
    assert len(_keys(seaweed_server, s3_url)) == 15          # 7 photos, 7 heatmaps, 1 thumb
    assert _count(one, PendingObject) == 0                    # the commit cleared the journal
    assert one.files.read_id() == one.data_id                 # the store carries the data id
    assert not (one.data_dir / "station-data-id").exists()    # the folder holds no photos
    two = site("line-2")
    got = two.inspections.get(world.supervisor, rec.id)
    side = got.sides[0]
    assert not Path(side.image_path).exists()                 # not at this station yet
    assert two.files.read(side.image_path) == new_inspection(world.product_id, "a"
                                                             ).sides[0].image_bytes
    assert two.files.fetch(got.thumbnail_path).is_file()
    assert got.station_name == "line-1"
    stations = {s.name: s for s in two.stations.list(world.supervisor)}
    assert set(stations) == {"line-1", "line-2"} and stations["line-1"].product_id == \
        world.product_id
    with one.database.read() as s:
        assert s.scalar(select(Inspection.station_id).where(Inspection.id == rec.id)) == \
            one.station_id


def test_another_database_cannot_take_the_store(site: Callable[..., Station], s3_url: str,
                                                postgres_server: str, tmp_path: Path) -> None:
    one = site("line-1")
    world = populate(one)
    one.inspections.record(world.operator, new_inspection(world.product_id, "a"))
    other_db = postgres_server.rsplit("/", 1)[0] + "/station_other"
    import psycopg
    with psycopg.connect(postgres_server.replace("postgresql+psycopg", "postgresql")
                         .rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS station_other")
        conn.execute("CREATE DATABASE station_other")
    with pytest.raises(DataFolderMismatch) as e:
        Station.open(other_db, tmp_path / "typo", password_hasher=FAST_HASHER, store=s3_url)
    assert "s3://" in str(e.value) and "is empty" in str(e.value)
    assert one.inspections.count(world.admin) == 1


def test_a_save_killed_before_its_commit_is_swept_from_the_journal(
        site: Callable[..., Station], seaweed_server: Seaweed, s3_url: str, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    one = site("line-1")
    world = populate(one)
    keep = one.inspections.record(world.operator, new_inspection(world.product_id, "keep"))
    kept = set(_keys(seaweed_server, s3_url))
    # Killed after the uploads, inside the transaction that would commit the row; no clean-up.
    with monkeypatch.context() as m, pytest.raises(Boom):
        m.setattr(InspectionService, "_note_station",
                  lambda self, s, row: (_ for _ in ()).throw(Boom()))
        m.setattr(InspectionService, "_clean_up", lambda self, *a: None)
        one.inspections.record(world.operator, new_inspection(world.product_id, "killed"))
    orphans = set(_keys(seaweed_server, s3_url)) - kept
    assert len(orphans) == 14 and _count(one, PendingObject) == 14
    young = site("line-1")                     # within the grace period: left alone
    assert young.sweep_report is not None and young.sweep_report.removed_orphans == 0
    assert orphans <= set(_keys(seaweed_server, s3_url))
    clock.advance(hours=2)
    later = site("line-1")
    assert later.sweep_report is not None and later.sweep_report.removed_orphans == 14
    assert set(_keys(seaweed_server, s3_url)) == kept and _count(later, PendingObject) == 0
    got = later.inspections.get(world.operator, keep.id)
    assert all(later.files.read(s.image_path) for s in got.sides)


def test_a_failed_save_removes_its_uploads_at_once(site: Callable[..., Station],
                                                   seaweed_server: Seaweed, s3_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    one = site("line-1")
    world = populate(one)
    with monkeypatch.context() as m, pytest.raises(Boom):
        m.setattr(InspectionService, "_note_station",
                  lambda self, s, row: (_ for _ in ()).throw(Boom()))
        one.inspections.record(world.operator, new_inspection(world.product_id, "failed"))
    assert _keys(seaweed_server, s3_url) == [] and _count(one, PendingObject) == 0


def test_no_sweep_takes_an_object_another_station_is_writing(
        site: Callable[..., Station], seaweed_server: Seaweed, s3_url: str) -> None:
    one = site("line-1")
    two = site("line-2")
    data = b"\x89PNG\r\n\x1a\nbeing written by line 2"
    ids = pending.journal(two.database, [(two.files.put(data, "png")[0], "png")],
                          two.station_id)
    # line 1 sweeps everything, with no grace at all: the journalled object stays.
    report = one.sweep_files(timedelta(0), full=True, confirmed=True)
    assert report.removed_orphans == 0 and len(_keys(seaweed_server, s3_url)) == 1
    with two.database.write() as s:            # line 2 gave up: now it is an orphan
        pending.clear(s, ids)
    report = one.sweep_files(timedelta(0), full=True, confirmed=True)
    assert report.removed_orphans == 1 and _keys(seaweed_server, s3_url) == []


def test_deleting_an_inspection_removes_its_objects(site: Callable[..., Station],
                                                    seaweed_server: Seaweed,
                                                    s3_url: str) -> None:
    one = site("line-1")
    world = populate(one)
    gone = one.inspections.record(world.operator, new_inspection(world.product_id, "gone"))
    keep = one.inspections.record(world.operator, new_inspection(world.product_id, "keep"))
    before = set(_keys(seaweed_server, s3_url))
    one.inspections.delete(world.admin, gone.id, "a test can")
    after = set(_keys(seaweed_server, s3_url))
    assert len(before - after) == 14 and _count(one, PendingObject) == 0
    assert all(one.files.read(s.image_path) for s in one.inspections.get(
        world.admin, keep.id).sides)


@pytest.mark.slow
def test_recording_while_the_store_is_down_fails_clearly_then_saves_once(
        pg_url: str, own_seaweed: Seaweed, tmp_path: Path) -> None:
    bucket = own_seaweed.new_bucket()
    access = S3Access(endpoint=own_seaweed.endpoint, access_key=own_seaweed.access_key,
                      secret_key=own_seaweed.secret_key)
    store = S3Store(S3Location(bucket, "site"), access, tmp_path / "cache", wait_s=2.0,
                    read_wait_s=1.0)
    station = Station.open(pg_url, tmp_path / "data", password_hasher=FAST_HASHER, store=store,
                           station_name="line-1")
    try:
        world = populate(station)
        can = new_inspection(world.product_id, "outage")
        can = type(can)(**{**can.__dict__, "capture_key": "can-outage-1"})
        own_seaweed.kill()
        with pytest.raises(ImageStoreUnavailable) as e:
            station.inspections.record(world.operator, can)
        assert "Nothing that needed it was saved" in str(e.value)
        assert station.inspections.count(world.admin) == 0
        assert _count(station, PendingObject) == 0
        own_seaweed.start()
        first = station.inspections.record(world.operator, can)
        again = station.inspections.record(world.operator, can)
        assert again.already_recorded and again.id == first.id
        assert station.inspections.count(world.admin) == 1
        assert len(own_seaweed.keys(bucket, "site/images/")) == 14
    finally:
        station.close()

