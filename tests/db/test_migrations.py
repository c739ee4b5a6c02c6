"""Schema versions: a database made by the first schema upgrades itself (with a backup), the ORM
matches the migrated schema, and a database from a newer station is refused."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from db import GalleryFilter, SchemaOutdated, Station
from db.migrate import current_revision, head_revision
from db.schema import Base
from db.services.rows import station_day
from tests.db.conftest import FAST_HASHER
from tests.db.old_schema import make_old_database, target_url

FIXTURE = Path(__file__).with_name("fixtures") / "first_schema.sqlite3"
FIXTURE_PASSWORD = "first-release-pw"


def _revision(station: Station) -> str | None:
    with station.database.engine.connect() as conn:
        return current_revision(conn)


def _check_first_schema_data(station: Station) -> None:
    admin = station.auth.sign_in("admin", FIXTURE_PASSWORD)
    assert [u.username for u in station.users.list(admin)] == ["admin", "otto", "sue"]
    product = station.products.get(admin, 1)
    assert (product.sku, product.quantity, product.model_id) == ("BEANS-400", 120, 1)
    assert station.warehouses.get(admin, 1).free == 380
    rows = station.inspections.page(admin, None, "started")
    assert [r.machine_verdict for r in rows] == ["pass", "reject", "review"]
    # The back-filled columns: the station's day, and the latest correction of can 2.
    assert rows[0].day == station_day(datetime(2025, 6, 2, 23, 30, 1))
    two = station.inspections.get(admin, 2)
    assert (two.machine_verdict, two.corrected_verdict, two.verdict) == ("reject", "pass", "pass")
    three = station.inspections.get(admin, 3)
    assert (three.sides[2].label, three.sides[2].final_label) == ("Anomaly", "Good")
    assert station.inspections.count(admin, GalleryFilter(verdict="pass")) == 2
    assert station.stats.summary(admin).rejected == 0


def test_first_schema_fixture_upgrades_with_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURE, data / "station.sqlite3")
    station = Station.open(None, data, password_hasher=FAST_HASHER)
    try:
        assert _revision(station) == head_revision() != "0001"
        backup = station.backup_path
        assert backup is not None and backup.name.startswith("station.sqlite3.bak-0001-")
        # The backup is the untouched first-schema database.
        with create_engine(f"sqlite:///{backup}").connect() as conn:
            assert current_revision(conn) == "0001"
            assert conn.execute(text("SELECT count(*) FROM side_results")).scalar() == 21
        _check_first_schema_data(station)
    finally:
        station.close()
    again = Station.open(None, data, password_hasher=FAST_HASHER)   # at head: no new backup
    assert again.backup_path is None
    again.close()


def test_first_schema_upgrades_on_every_backend(db_url: str | None, tmp_path: Path) -> None:
    """The same first-schema rows, copied into an empty database of the backend at revision 0001,
    come through the upgrade (PostgreSQL included)."""
    data = tmp_path / "data"
    make_old_database(target_url(db_url, data), "0001")
    station = Station.open(db_url, data, password_hasher=FAST_HASHER)
    try:
        assert _revision(station) == head_revision()
        _check_first_schema_data(station)
    finally:
        station.close()


def test_orm_matches_migrated_schema(station: Station) -> None:
    with station.database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_newer_database_is_refused(open_station, station: Station) -> None:
    with station.database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    station.close()
    with pytest.raises(SchemaOutdated) as e:
        open_station()
    assert "newer version" in str(e.value) and "9999_from_the_future" in str(e.value)


def test_new_database_needs_no_backup(station: Station) -> None:
    assert station.backup_path is None
    assert _revision(station) == head_revision()
    assert not list(station.data_dir.glob("*.bak-*"))


def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(tmp_path: Path) -> None:
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER, busy_timeout_s=3)
    try:
        with station.database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
    finally:
        station.close()


def test_lock_held_too_long_is_database_busy(tmp_path: Path) -> None:
    import sqlite3

    from db import DatabaseBusy
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER, busy_timeout_s=0.2)
    other = sqlite3.connect(tmp_path / "station.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")        # another station holds the write lock
        with pytest.raises(DatabaseBusy):
            station.auth.create_first_admin("admin", "long enough to pass")
        other.execute("ROLLBACK")
        assert station.auth.create_first_admin("admin", "long enough to pass").username == "admin"
    finally:
        other.close()
        station.close()


def test_day_follows_the_station_calendar() -> None:
    late = datetime(2026, 1, 1, 23, 59, tzinfo=timezone.utc)
    assert station_day(late) == late.astimezone().date()
    assert isinstance(station_day(datetime(2026, 1, 1, 12)), date)


def test_downgrade_to_first_schema_keeps_rows(station: Station) -> None:
    """Not used by the station, but a downgrade must never lose rows (an admin may need it)."""
    from db.migrate import downgrade
    from tests.db.helpers import new_inspection, populate
    world = populate(station)
    station.inspections.record(world.operator, new_inspection(world.product_id, "d"))
    downgrade(station.database.engine, "0001")
    with station.database.engine.connect() as conn:
        assert current_revision(conn) == "0001"
        assert conn.execute(text("SELECT count(*) FROM side_results")).scalar() == 7
        assert conn.execute(text("SELECT count(*) FROM inspections")).scalar() == 1
