"""Recording while the site's photo store is away (``app.recording.record_patiently``, what the
line's recorder runs): the save is tried again within a bound and lands once when the store comes
back; past the bound it fails loudly, with nothing half-saved. Real PostgreSQL, real SeaweedFS."""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.recording import record_patiently
from db import NewInspection, Station
from db.errors import ImageStoreUnavailable
from db.schema import PendingObject
from db.stores.config import S3Access, S3Location
from db.stores.s3 import S3Store
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import World, new_inspection, populate
from tests.db.seaweed import Seaweed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WAIT_S = 1.5          # the store's own wait for one call


@pytest.fixture
def station(pg_url: str, own_seaweed: Seaweed, tmp_path: Path) -> Iterator[Station]:
    access = S3Access(endpoint=own_seaweed.endpoint, access_key=own_seaweed.access_key,
                      secret_key=own_seaweed.secret_key)
    store = S3Store(S3Location(own_seaweed.new_bucket(), "site"), access, tmp_path / "cache",
                    wait_s=WAIT_S, read_wait_s=1.0)
    st = Station.open(pg_url, tmp_path / "data", password_hasher=FAST_HASHER, store=store,
                      station_name="line-1")
    yield st
    st.close()


def _objects(server: Seaweed, station: Station) -> int:
    bucket = station.files.location.bucket      # type: ignore[attr-defined]
    return len(server.keys(bucket, "site/images/"))


def _journal(station: Station) -> int:
    with station.database.read() as s:
        return s.execute(select(func.count(PendingObject.id))).scalar_one()


def _can(world: World, key: str | None) -> NewInspection:
    return dataclasses.replace(new_inspection(world.product_id, key or "nokey"), capture_key=key)


@pytest.mark.parametrize("key", ["can-restart-1", None])
def test_a_can_saved_while_the_store_restarts_lands_once(station: Station,
                                                          own_seaweed: Seaweed,
                                                          key: str | None) -> None:
    world = populate(station)
    own_seaweed.kill()
    back = threading.Timer(4.0, own_seaweed.start)     # the store comes back mid-save
    back.start()
    try:
        t0 = time.monotonic()
        info = record_patiently(station, world.operator, _can(world, key), give_up_s=90.0,
                                pause_s=0.5)
        waited = time.monotonic() - t0
    finally:
        back.join()
    assert waited >= 4.0 and not info.already_recorded
    assert station.inspections.count(world.admin) == 1
    assert _objects(own_seaweed, station) == 14 and _journal(station) == 0
    assert [s.image_sha256 for s in station.inspections.get(world.admin, info.id).sides]


def test_a_store_away_past_the_bound_fails_the_can_loudly(station: Station,
                                                          own_seaweed: Seaweed) -> None:
    world = populate(station)
    own_seaweed.kill()
    t0 = time.monotonic()
    with pytest.raises(ImageStoreUnavailable) as e:
        record_patiently(station, world.operator, _can(world, "can-gone-1"), give_up_s=4.0,
                         pause_s=0.5)
    took = time.monotonic() - t0
    assert 4.0 - 0.5 <= took <= 4.0 + 2 * WAIT_S + 5.0      # within the bound, not forever
    assert "store" in str(e.value).lower()
    assert station.inspections.count(world.admin) == 0 and _journal(station) == 0
    own_seaweed.start()
    assert _objects(own_seaweed, station) == 0               # nothing half-saved
