"""Models for the site: built at one station, published into the shared store, activated for a
product, downloaded and verified (SHA-256 of model.json and of the weights) by every other
station; a damaged copy in the store is refused and changes nothing; rollback and the bundled
model's local copies. Real PostgreSQL and SeaweedFS."""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from db import Actor, Station
from db.dto import ModelInfo
from db.errors import ModelUnavailable, ValidationError
from db.stores.config import S3Location
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import FakeClock, populate, write_model_folder
from tests.db.seaweed import Seaweed

THRESHOLDS = {"review": 0.4, "reject": 0.6}


@pytest.fixture
def site(pg_url: str, s3_url: str, tmp_path: Path, clock: FakeClock
         ) -> Iterator[Callable[[str], Station]]:
    opened: list[Station] = []

    def _open(name: str) -> Station:
        st = Station.open(pg_url, tmp_path / name, password_hasher=FAST_HASHER, store=s3_url,
                          station_name=name, now=clock)
        opened.append(st)
        return st

    yield _open
    for st in opened:
        st.close()


def _build(station: Station, admin: Actor, version: str, weights: bytes) -> tuple[ModelInfo, Path]:
    folder = write_model_folder(station.data_dir / "models" / f"cam-{version}", weights)
    return station.models.register(admin, "cam", str(folder), "cam", "effnet", version, {},
                                   THRESHOLDS, {}), folder


@pytest.mark.postgres
def test_a_model_built_at_one_station_runs_at_another(site: Callable[[str], Station],
                                                      seaweed_server: Seaweed,
                                                      s3_url: str) -> None:
    one, two = site("line-1"), site("line-2")
    world = populate(one)
    info, folder = _build(one, world.admin, "2", b"weights of version 2")
    assert info.package_sha256 == hashlib.sha256((folder / "model.json").read_bytes()
                                                 ).hexdigest()
    assert info.weights_sha256 == hashlib.sha256(b"weights of version 2").hexdigest()
    assert not info.published
    published = one.site_models.publish(world.admin, info.id)
    assert published.published and published.folder == str(folder)   # its own copy, here
    location = S3Location.parse(s3_url)
    assert seaweed_server.keys(location.bucket, location.key("models/")) == [
        location.key(f"models/{info.package_sha256}/{name}")
        for name in ("model.json", "weights.safetensors")]
    shutil.rmtree(folder)          # the other station's machine never had that folder
    one.models.activate(world.admin, info.id, [world.product_id])
    active = two.models.active_for_product(world.operator, world.product_id)
    assert active is not None and active.id == info.id
    assert Path(active.folder) == two.data_dir / "site-models" / info.package_sha256
    assert not Path(active.folder).exists()             # not downloaded yet
    ready = Path(two.site_models.ensure(active.folder))
    assert (ready / "weights.safetensors").read_bytes() == b"weights of version 2"
    assert hashlib.sha256((ready / "model.json").read_bytes()).hexdigest() == \
        info.package_sha256
    assert two.site_models.ensure(active.folder) == active.folder   # once is enough
    three = site("line-3")                               # a station that starts later
    assert three.site_models.prefetch() == [str(three.data_dir / "site-models" /
                                                 info.package_sha256)]


@pytest.mark.postgres
def test_a_damaged_model_in_the_store_is_refused(site: Callable[[str], Station],
                                                 seaweed_server: Seaweed, s3_url: str) -> None:
    one, two = site("line-1"), site("line-2")
    world = populate(one)
    info, folder = _build(one, world.admin, "3", b"good weights")
    one.site_models.publish(world.admin, info.id)
    shutil.rmtree(folder)
    location = S3Location.parse(s3_url)
    seaweed_server.client().put_object(
        Bucket=location.bucket, Body=b"evil weights",
        Key=location.key(f"models/{info.package_sha256}/weights.safetensors"))
    target = two.models.get(world.admin, info.id).folder
    with pytest.raises(ModelUnavailable) as e:
        two.site_models.ensure(target)
    assert "weights do not match" in str(e.value) and "keeps its current model" in str(e.value)
    assert not Path(target).exists()
    assert two.site_models.prefetch() == []              # logged, tried again later


@pytest.mark.postgres
def test_rollback_goes_back_to_the_previous_site_model(site: Callable[[str], Station]) -> None:
    one, two = site("line-1"), site("line-2")
    world = populate(one)
    old, _ = _build(one, world.admin, "1", b"version one")
    new, _ = _build(one, world.admin, "2", b"version two")
    for m in (old, new):
        one.site_models.publish(world.admin, m.id)
        one.models.activate(world.admin, m.id, [world.product_id])
    assert two.models.active_for_product(world.operator, world.product_id).id == new.id
    one.models.rollback(world.admin, world.product_id)
    back = two.models.active_for_product(world.operator, world.product_id)
    assert back.id == old.id
    assert (Path(two.site_models.ensure(back.folder)) / "weights.safetensors").read_bytes() \
        == b"version one"


def test_without_a_shared_store_the_checksums_are_kept_and_nothing_is_uploaded(
        station: Station) -> None:
    world = populate(station)
    info, folder = _build(station, world.admin, "1", b"local weights")
    done = station.site_models.publish(world.admin, info.id)
    assert not done.published and done.package_sha256 == info.package_sha256
    assert done.folder == str(folder)
    assert not (station.data_dir / "site-objects").exists()
    broken = write_model_folder(station.data_dir / "models" / "no-checksum", b"x")
    (broken / "model.json").write_text("{}")
    other = station.models.register(world.admin, "old", str(broken), "cam", "effnet", "1", {},
                                    THRESHOLDS, {})
    with pytest.raises(ValidationError, match="weights checksum"):
        station.site_models.publish(world.admin, other.id)


def test_each_station_finds_its_own_copy_of_the_bundled_model(station: Station,
                                                              tmp_path: Path) -> None:
    """Every station installs the bundled model into its own models folder; the registry
    names the first station's path. A copy with the same name and bytes here is used."""
    first = write_model_folder(tmp_path / "elsewhere" / "default-1.0", b"bundled")
    info = station.models.register_system("default", str(first), "cam", "effnet", "1.0", {},
                                          THRESHOLDS, {})
    shutil.rmtree(first)
    mine = station.data_dir / "models" / "default-1.0"
    write_model_folder(mine, b"bundled")                 # the same name and bytes
    world = populate(station)
    assert station.models.get(world.admin, info.id).folder == str(mine)
    write_model_folder(mine, b"other bytes")             # not the registered model: not used
    assert station.models.get(world.admin, info.id).folder == str(first)
