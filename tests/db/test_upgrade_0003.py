"""Revision 0003 (issue 9): upgrading a database of the previous release (0002) on SQLite and
PostgreSQL, ids never reused, names that collide once normalised, thresholds the engine refuses."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db import AccountLocked, Station, UpgradeRefused
from db.identity import ID_FILE
from db.migrate import current_revision, head_revision
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import World, new_inspection
from tests.db.old_schema import FIXTURE_PASSWORD, execute, make_old_database, target_url


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def test_previous_release_upgrades_on_every_backend(db_url: str | None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = target_url(db_url, data)
    make_old_database(url, "0002")
    # As the previous release left it: can 3 deleted (the log still names "inspection:3"),
    # otto locked after failed sign-ins, thresholds the engine refuses on the product.
    execute(url, "DELETE FROM corrections WHERE inspection_id = 3",
            "DELETE FROM side_results WHERE inspection_id = 3",
            "DELETE FROM inspections WHERE id = 3",
            "INSERT INTO audit_events (at, user_id, username, action, target, details) VALUES "
            "('2025-06-06 10:00:00', 1, 'admin', 'inspection.delete', 'inspection:3', '{}')",
            "UPDATE users SET failed_attempts = 5, locked_until = '2099-01-01 00:00:00' "
            "WHERE username = 'otto'",
            "UPDATE products SET thresholds = :bad", bad=json.dumps({"review": 0.6, "reject": 0.7}))
    station = Station.open(db_url, data, password_hasher=FAST_HASHER)
    try:
        assert _revision(station.url) == head_revision()   # 0003 and what came after
        admin = station.auth.sign_in("ADMIN", FIXTURE_PASSWORD)     # found by its key
        assert not admin.must_change_password
        with pytest.raises(AccountLocked):                         # the lock came through
            station.auth.sign_in("otto", FIXTURE_PASSWORD)
        product = station.products.get(admin, 1)
        assert product.thresholds is None and product.region_recipe is None
        assert product.previous_model_id is None
        reset = station.audit.list(admin, action="product.thresholds_reset")
        assert [e.details["old"] for e in reset] == [{"review": 0.6, "reject": 0.7}]
        one = station.inspections.get(admin, 1)
        assert one.capture_key is None and all(s.reason == "" and s.region is None
                                               for s in one.sides)
        new = station.inspections.record(admin, new_inspection(1, "after upgrade"))
        assert new.id == 4                      # never 3: the audit log names that one
        assert (data / ID_FILE).read_text().strip() == station.data_id
    finally:
        station.close()


def test_names_that_collide_stop_the_upgrade(tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = target_url(None, data)
    make_old_database(url, "0002")
    execute(url, "UPDATE users SET username = 'Otto' WHERE username = 'sue'",
            "INSERT INTO warehouses VALUES (2, 'hall a', '', 10, '')")
    with pytest.raises(UpgradeRefused) as e:
        Station.open(None, data, password_hasher=FAST_HASHER)
    message = str(e.value)
    assert "'Otto', 'otto'" in message and "'Hall A', 'hall a'" in message
    assert "Nothing was changed" in message
    assert _revision(url) == "0002"             # rolled back, and the backup was made first
    assert len(list(data.glob("station.sqlite3.bak-0002-*"))) == 1


def test_upgrade_keeps_ids_above_everything_the_log_named(tmp_path: Path) -> None:
    """The highest inspection was deleted before the upgrade: SQLite had forgotten its id, the
    audit log had not; the sequence starts above it."""
    data = tmp_path / "data"
    url = target_url(None, data)
    make_old_database(url, "0002")
    execute(url, "DELETE FROM corrections", "DELETE FROM side_results WHERE inspection_id > 1",
            "DELETE FROM inspections WHERE id > 1",
            "INSERT INTO audit_events (at, user_id, username, action, target, details) VALUES "
            "('2025-06-06 10:00:00', 1, 'admin', 'inspection.delete', 'inspection:3', '{}')")
    station = Station.open(None, data, password_hasher=FAST_HASHER)
    try:
        admin = station.auth.sign_in("admin", FIXTURE_PASSWORD)
        assert station.inspections.record(admin, new_inspection(1, "x")).id == 4
    finally:
        station.close()


def test_ids_are_never_reused_after_a_delete(station: Station, world: World) -> None:
    """Issue 9 item 2: on SQLite the id of the newest inspection came back after its delete, and
    the audit trail's "inspection:2" then named another can."""
    first = station.inspections.record(world.operator, new_inspection(world.product_id, "1"))
    second = station.inspections.record(world.operator, new_inspection(world.product_id, "2"))
    station.inspections.delete(world.admin, second.id, "a test can")
    third = station.inspections.record(world.operator, new_inspection(world.product_id, "3"))
    assert third.id > second.id > first.id
    spare = station.products.create(world.admin, "SPARE", "Spare", world.warehouse_id, 0,
                                    [f"s{i}" for i in range(7)])
    station.products.delete(world.admin, spare.id)
    again = station.products.create(world.admin, "SPARE", "Spare", world.warehouse_id, 0,
                                    [f"s{i}" for i in range(7)])
    assert again.id > spare.id


def test_sqlite_tables_named_by_the_log_are_autoincrement(tmp_path: Path) -> None:
    """(PostgreSQL's sequences never go back.)"""
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    with station.database.engine.connect() as conn:
        sql = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type='table'"))
                   .all())
    station.close()
    for table in ("users", "warehouses", "products", "models", "inspections", "side_results",
                  "corrections", "model_evaluations"):
        assert "AUTOINCREMENT" in sql[table], table


def test_first_release_database_upgrades_through_both_revisions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(Path(__file__).with_name("fixtures") / "first_schema.sqlite3",
                data / "station.sqlite3")
    station = Station.open(None, data, password_hasher=FAST_HASHER)
    try:
        admin = station.auth.sign_in("admin", FIXTURE_PASSWORD)
        assert station.models.get(admin, 1).thresholds == {"review": 0.4, "reject": 0.6}
        assert not station.audit.list(admin, action="model.thresholds_reset")
        started = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        assert station.inspections.record(admin, new_inspection(1, "y", started=started)).id == 4
    finally:
        station.close()
