"""A mask drawn at one station on the site's shared photo store: journalled before its upload, so a
correction that fails after the upload leaves neither the object nor its journal row behind.
Real PostgreSQL, real SeaweedFS."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from db import Station
from db.errors import NotFound
from db.schema import PendingObject
from db.services.rows import MASK_EXT
from db.stores.config import S3Access, S3Location
from db.stores.s3 import S3Store
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import new_inspection, populate
from tests.db.seaweed import Seaweed

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def station(pg_url: str, seaweed_server: Seaweed, tmp_path: Path) -> Iterator[Station]:
    access = S3Access(endpoint=seaweed_server.endpoint, access_key=seaweed_server.access_key,
                      secret_key=seaweed_server.secret_key)
    store = S3Store(S3Location(seaweed_server.new_bucket(), "site"), access, tmp_path / "cache")
    st = Station.open(pg_url, tmp_path / "data", password_hasher=FAST_HASHER, store=store,
                      station_name="line-1")
    yield st
    st.close()


def _mask(seed: int) -> bytes:
    mask = np.zeros((64, 64), np.uint8)
    cv2.circle(mask, (20 + seed, 30), 9, 255, -1)
    return cv2.imencode(".png", mask)[1].tobytes()


def _mask_keys(server: Seaweed, station: Station, sha: str) -> list[str]:
    bucket = station.files.location.bucket      # type: ignore[attr-defined]
    return [k for k in server.keys(bucket, "site/") if sha in k]


def _journal(station: Station) -> int:
    with station.database.read() as s:
        return s.execute(select(func.count(PendingObject.id))).scalar_one()


def test_a_mask_lands_in_the_store_and_its_journal_row_goes(station: Station,
                                                             seaweed_server: Seaweed) -> None:
    world = populate(station)
    info = station.inspections.record(world.operator, new_inspection(world.product_id, "m1"))
    side = station.inspections.get(world.admin, info.id).sides[2]
    mask = _mask(0)
    station.corrections.correct_side(world.supervisor, side.id, "Anomaly", "dent", mask=mask)
    sha = hashlib.sha256(mask).hexdigest()
    assert len(_mask_keys(seaweed_server, station, sha)) == 1
    assert _journal(station) == 0
    assert station.files.read(station.files.path(sha, MASK_EXT)) == mask


def test_a_correction_that_fails_after_the_upload_leaves_nothing(station: Station,
                                                                 seaweed_server: Seaweed) -> None:
    world = populate(station)
    mask = _mask(5)
    with pytest.raises(NotFound):
        station.corrections.correct_side(world.supervisor, 99999, "Anomaly", "dent", mask=mask)
    sha = hashlib.sha256(mask).hexdigest()
    assert _mask_keys(seaweed_server, station, sha) == []
    assert _journal(station) == 0
