"""Faults reach a person as station errors (issue 9 items 8, 9, 11): a damaged SQLite file, a full
disk (SQLite's own and the export's), CSV cells that spreadsheets would run as formulas."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import event

from db import DatabaseDamaged, Station, StorageFull
from db.csv_cells import safe_cell
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import World, new_inspection, populate, snapshot
from tests.disks import fill, small_disk


def test_a_damaged_sqlite_file_is_database_damaged(tmp_path: Path) -> None:
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    station.close()
    db_file = tmp_path / "station.sqlite3"
    data = bytearray(db_file.read_bytes())
    data[:16] = b"this is no db!!!"                   # the header is gone
    db_file.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseDamaged) as e:
        Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    assert str(db_file) in str(e.value) and "Restore it from a backup" in str(e.value)


def test_sqlite_full_while_recording_is_storage_full_and_loses_nothing(tmp_path: Path) -> None:
    """SQLite's own "database or disk is full", made real with max_page_count (the file may not
    grow by a page more): the call says the disk is full; no row, no stray file."""
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    world = populate(station)
    station.inspections.record(world.operator, new_inspection(world.product_id, "before"))
    engine = station.database.engine
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _no_room(dbapi_conn, _record) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    before = snapshot(station)
    with pytest.raises(StorageFull) as e:
        for k in range(50):                          # until the last free page is used up
            station.inspections.record(world.operator, new_inspection(world.product_id, str(k)))
            before = snapshot(station)
    assert "full" in str(e.value) and "Nothing was lost" in str(e.value)
    assert snapshot(station) == before
    station.close()


def test_csv_export_to_a_full_disk_is_storage_full(station: Station, world: World,
                                                   tmp_path: Path) -> None:
    """Real full devices: a stream on /dev/full, and a path on a small tmpfs that is full
    (``tests.disks``): StorageFull, and no file or part of one left behind."""
    station.inspections.record(world.operator, new_inspection(world.product_id, "x"))
    full = open("/dev/full", "w", encoding="utf-8")
    with pytest.raises(StorageFull):
        station.inspections.export_csv(world.supervisor, None, full)
    try:
        full.close()        # the caller's stream still holds what could not be written
    except OSError:
        pass
    with small_disk(tmp_path / "exports", 64) as exports:
        filler = fill(exports, 0)
        with pytest.raises(StorageFull) as e:
            station.inspections.export_csv(world.supervisor, None, exports / "export.csv")
        assert str(exports) in str(e.value)
        assert list(exports.iterdir()) == [filler]      # neither the file nor its part


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://evil.example","Click")',
                                  "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)"])
def test_csv_cells_never_run_as_formulas(station: Station, world: World, evil: str) -> None:
    """Issue 9 item 11 (OWASP CSV injection): text typed into the station comes out as text."""
    station.products.update(world.admin, world.product_id, name=evil)
    station.inspections.record(world.operator, new_inspection(world.product_id, "e"))
    out = io.StringIO()
    station.inspections.export_csv(world.supervisor, None, out)
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["product_name"] == "'" + evil


@pytest.mark.parametrize("cell,written", [("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"),
                                          ("-0.25", "-0.25"), ("1e-3", "1e-3"), (-3, -3),
                                          ("plain", "plain"), ("a=b", "a=b"), (None, None)])
def test_safe_cell(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


def test_numbers_stay_numbers_in_the_export(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(world.product_id, "n"))
    out = io.StringIO()
    station.inspections.export_csv(world.supervisor, None, out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["id"] == str(info.id) and float(row["side1_score"]) == pytest.approx(0.2)


def test_nothing_raw_escapes_when_sqlite_is_damaged_while_open(tmp_path: Path) -> None:
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    world = populate(station)
    station.close()
    db_file = tmp_path / "station.sqlite3"
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    station.database.engine.dispose()
    with open(db_file, "r+b") as fh:                 # damaged under a running station
        fh.write(b"garbage garbage!")
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseDamaged):
        station.warehouses.list(world.admin)
    station.close()
