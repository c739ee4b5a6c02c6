"""The data folder and the database are tied together (issue 9 item 1): the start-up sweep once
deleted every photo when the database was empty or not the right one. Now such a start is
refused with a message and nothing is removed; a sweep over more than a small share holds back
until a person confirms (main.py sweep --confirm)."""
from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from db import DataFolderMismatch, DataFolderUnusable, Station
from db.cli import register
from db.identity import ID_FILE
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import World, new_inspection, populate
from tests.db.old_schema import make_old_database, target_url

NO_GRACE = timedelta(0)


def _photos(data: Path) -> set[Path]:
    return {p for p in (data / "images").rglob("*") if p.is_file() and p.name != ".last-sweep"}


def _age(paths: set[Path], seconds: float = 7200) -> None:
    for p in paths:
        t = os.stat(p).st_mtime - seconds
        os.utime(p, (t, t))


def _used_folder(open_station, n: int = 3) -> tuple[Station, World, set[Path]]:
    station = open_station()
    world = populate(station)
    for k in range(n):
        station.inspections.record(world.operator, new_inspection(world.product_id, str(k)))
    photos = _photos(station.data_dir)
    _age(photos)
    return station, world, photos


def test_folder_and_database_carry_the_same_id(station: Station) -> None:
    assert station.data_id and (station.data_dir / ID_FILE).read_text().strip() == station.data_id


def test_zero_byte_database_on_a_used_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Station.open(None, data, password_hasher=FAST_HASHER)
    world = populate(first)
    first.inspections.record(world.operator, new_inspection(world.product_id, "x"))
    first.close()
    photos = _photos(data)
    _age(photos)
    (data / "station.sqlite3").write_bytes(b"")            # emptied, or replaced by a new file
    for suffix in ("-wal", "-shm"):
        (data / f"station.sqlite3{suffix}").unlink(missing_ok=True)
    with pytest.raises(DataFolderMismatch) as e:
        Station.open(None, data, password_hasher=FAST_HASHER, sweep_grace=NO_GRACE)
    assert "is empty" in str(e.value) and str(data) in str(e.value)
    assert _photos(data) == photos                          # nothing was removed
    assert (data / "station.sqlite3").stat().st_size == 0   # and the file was not touched


def test_a_missing_database_file_on_a_used_folder_leaves_no_new_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Station.open(None, data, password_hasher=FAST_HASHER)
    world = populate(first)
    first.inspections.record(world.operator, new_inspection(world.product_id, "x"))
    first.close()
    for p in data.glob("station.sqlite3*"):
        p.unlink()
    with pytest.raises(DataFolderMismatch):
        Station.open(None, data, password_hasher=FAST_HASHER, sweep_grace=NO_GRACE)
    assert not list(data.glob("station.sqlite3*"))


def test_another_stations_database_is_refused(tmp_path: Path) -> None:
    """A restored or replaced file from another station: both sides have ids, and they differ."""
    a, b = tmp_path / "a", tmp_path / "b"
    for data in (a, b):
        st = Station.open(None, data, password_hasher=FAST_HASHER)
        world = populate(st)
        st.inspections.record(world.operator, new_inspection(world.product_id, data.name))
        st.close()
    photos = _photos(a)
    _age(photos)
    shutil.copy(b / "station.sqlite3", a / "station.sqlite3")
    with pytest.raises(DataFolderMismatch) as e:
        Station.open(None, a, password_hasher=FAST_HASHER, sweep_grace=NO_GRACE)
    assert "belongs to another database" in str(e.value)
    assert _photos(a) == photos


def test_a_database_without_id_is_adopted_only_with_its_own_photos(tmp_path: Path) -> None:
    """A database from before revision 0003 (no id) beside a folder that holds someone else's
    photos is refused; with its own photos it is adopted."""
    a, b = tmp_path / "a", tmp_path / "b"
    st = Station.open(None, a, password_hasher=FAST_HASHER)
    world = populate(st)
    st.inspections.record(world.operator, new_inspection(world.product_id, "a"))
    st.close()
    make_old_database(target_url(None, b), "0002")          # rows, but photos of other content
    shutil.copytree(a / "images", b / "images")
    with pytest.raises(DataFolderMismatch) as e:
        Station.open(None, b, password_hasher=FAST_HASHER)
    assert "do not belong" in str(e.value)
    assert not (b / ID_FILE).exists()
    # The same old database with its own photos (sha of the fixture's rows) is adopted.
    shutil.rmtree(b / "images")
    engine = create_engine(f"sqlite:///{b / 'station.sqlite3'}")
    with engine.connect() as conn:
        sha, ext = conn.execute(text("SELECT image_sha, image_ext FROM side_results "
                                     "ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()
    own = b / "images" / sha[:2] / sha[2:4] / f"{sha}.{ext}"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"\x89PNG\r\n\x1a\nold photo")
    st = Station.open(None, b, password_hasher=FAST_HASHER)
    assert (b / ID_FILE).read_text().strip() == st.data_id
    st.close()


def test_a_new_folder_beside_a_used_database_is_tied_to_it(tmp_path: Path) -> None:
    """A second station on a shared database starts with an empty folder of its own."""
    a = tmp_path / "a"
    st = Station.open(None, a, password_hasher=FAST_HASHER)
    data_id = st.data_id
    st.close()
    other = Station.open(f"sqlite:///{a / 'station.sqlite3'}", tmp_path / "second",
                         password_hasher=FAST_HASHER)
    assert other.data_id == data_id
    assert (tmp_path / "second" / ID_FILE).read_text().strip() == data_id
    other.close()


def test_a_new_postgresql_database_on_a_used_folder_is_refused(postgres_server: str,
                                                               tmp_path: Path) -> None:
    """``--db-url`` with a typo in the database's name: the server makes a fresh database (here:
    an empty one), and the folder's photos belonged to another."""
    data = tmp_path / "data"
    first = Station.open(postgres_server, data, password_hasher=FAST_HASHER)
    world = populate(first)
    first.inspections.record(world.operator, new_inspection(world.product_id, "pg"))
    first.close()
    photos = _photos(data)
    _age(photos)
    admin = create_engine(postgres_server.rsplit("/", 1)[0] + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS station_typo"))
        conn.execute(text("CREATE DATABASE station_typo"))
    typo = postgres_server.rsplit("/", 1)[0] + "/station_typo"
    try:
        with pytest.raises(DataFolderMismatch):
            Station.open(typo, data, password_hasher=FAST_HASHER, sweep_grace=NO_GRACE)
        assert _photos(data) == photos
        engine = create_engine(typo)
        assert inspect(engine).get_table_names() == []      # not even the schema was created
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS station_typo WITH (FORCE)"))
        admin.dispose()


@pytest.mark.parametrize("kind", ["file", "inside a file"])
def test_a_data_folder_that_is_a_file_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    folder = blocker if kind == "file" else blocker / "sub"
    with pytest.raises(DataFolderUnusable) as e:
        Station.open(None, folder, password_hasher=FAST_HASHER)
    assert str(folder) in str(e.value) and "Choose another data folder" in str(e.value)


def test_a_large_sweep_holds_back_until_confirmed(open_station, caplog, tmp_path: Path,
                                                  db_url: str | None) -> None:
    station, world, photos = _used_folder(open_station, n=10)
    # Rows gone behind the station's back (a database restored from an older copy, say).
    with station.database.engine.begin() as conn:
        for table in ("corrections", "side_results", "inspections"):
            conn.execute(text(f"DELETE FROM {table}"))
    with caplog.at_level(logging.WARNING, logger="db.filestore"):
        again = open_station(sweep_grace=NO_GRACE)
    report = again.sweep_report
    assert report.held == len(photos) == 140 and report.removed_orphans == 0
    assert _photos(station.data_dir) == photos
    assert "main.py sweep --confirm" in caplog.text
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    settings = argparse.Namespace(data_dir=station.data_dir, db_url=db_url)
    out = io.StringIO()
    args = parser.parse_args(["sweep"])
    assert args.run(args, settings, out=out) == 1 and "140 photo files" in out.getvalue()
    assert _photos(station.data_dir) == photos
    args = parser.parse_args(["sweep", "--confirm"])
    assert args.run(args, settings, out=io.StringIO()) == 0
    assert _photos(station.data_dir) == set()


def test_a_crash_leaves_few_orphans_and_they_go_without_asking(open_station) -> None:
    station, world, photos = _used_folder(open_station, n=10)
    with station.database.engine.begin() as conn:   # one can's row lost: 14 files
        last = conn.execute(text("SELECT max(id) FROM inspections")).scalar()
        conn.execute(text("DELETE FROM side_results WHERE inspection_id = :i"), {"i": last})
        conn.execute(text("DELETE FROM inspections WHERE id = :i"), {"i": last})
    report = open_station(sweep_grace=NO_GRACE).sweep_report
    assert (report.removed_orphans, report.held) == (14, 0)
