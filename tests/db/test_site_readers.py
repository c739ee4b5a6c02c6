"""What a supervisor at one station sees of a can another station recorded, through the app layer
the gallery, the detail view and the PDF report use; an unreachable store is a message beside the
side, never a crash; and the site sync's heartbeat and model download. Real PostgreSQL and
SeaweedFS."""
from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from app.inspection_detail import load_detail
from app.report import build_report, inspection_page
from app.site_sync import SiteSync
from core.images import encode_jpeg
from core.progress import Progress
from core.results import heatmap_to_png16
from db import GalleryFilter, NewInspection, NewSide, Station
from db.stores.config import S3Access, S3Location
from db.stores.s3 import S3Store
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import SIDES, FakeClock, new_inspection, populate, write_model_folder
from tests.db.seaweed import Seaweed

pytestmark = pytest.mark.postgres


@pytest.fixture
def site(pg_url: str, s3_url: str, tmp_path: Path, clock: FakeClock
         ) -> Iterator[Callable[..., Station]]:
    opened: list[Station] = []

    def _open(name: str, store: object = s3_url) -> Station:
        st = Station.open(pg_url, tmp_path / name, password_hasher=FAST_HASHER, store=store,
                          station_name=name, now=clock)
        opened.append(st)
        return st

    yield _open
    for st in opened:
        st.close()


def _photographed(product_id: int, seed: int) -> NewInspection:
    """A can with real photos (JPEG) and heatmaps (16-bit PNG), as the station records them."""
    rng = np.random.default_rng(seed)
    can = new_inspection(product_id, f"photo-{seed}", thumbnail=False)
    sides = [NewSide(side_name=name,
                     image_bytes=encode_jpeg(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)),
                     image_ext="jpg",
                     heatmap_bytes=heatmap_to_png16(rng.random((48, 64), dtype=np.float32)),
                     score=0.2, label="Good", outcome="pass")
             for name in SIDES]
    return NewInspection(**{**can.__dict__, "sides": sides,
                            "thumbnail_bytes": encode_jpeg(np.zeros((32, 32, 3), np.uint8))})


def test_the_detail_and_report_at_another_station_show_its_photos(
        site: Callable[..., Station], tmp_path: Path) -> None:
    one, two = site("line-1"), site("line-2")
    world = populate(one)
    can = one.inspections.record(world.operator, _photographed(world.product_id, 1))
    # the report first, while line-2 has none of these photos in its cache
    page = inspection_page(two.inspections.get(world.supervisor, can.id), two.files)
    texts = [t.get_text() for ax in page.axes for t in ax.texts]
    assert not [t for t in texts if "missing" in t]
    report = build_report(Progress(), two, world.supervisor, GalleryFilter(),
                          tmp_path / "site.pdf")
    assert report.with_pages == 1 and (tmp_path / "site.pdf").stat().st_size > 10_000
    detail = load_detail(Progress(), two, world.supervisor, can.id)
    assert [v.problem for v in detail.sides] == [""] * len(SIDES)
    assert all(v.image is not None and v.image.shape == (48, 64, 3) for v in detail.sides)
    assert all(v.heatmap is not None for v in detail.sides)
    row = two.inspections.page(world.supervisor, None, "-started", 0, 10)[0]
    assert row.thumbnail_path is not None and two.files.fetch(row.thumbnail_path).is_file()


@pytest.mark.slow
def test_an_unreachable_store_is_a_message_beside_each_side(
        site: Callable[..., Station], own_seaweed: Seaweed, tmp_path: Path) -> None:
    access = S3Access(endpoint=own_seaweed.endpoint, access_key=own_seaweed.access_key,
                      secret_key=own_seaweed.secret_key)
    location = S3Location(own_seaweed.new_bucket(), "site")

    def store(name: str) -> S3Store:
        return S3Store(location, access, tmp_path / name / "cache", wait_s=2.0, read_wait_s=1.0)

    one = site("line-1", store("line-1"))
    two = site("line-2", store("line-2"))
    world = populate(one)
    can = one.inspections.record(world.operator, _photographed(world.product_id, 2))
    own_seaweed.kill()
    detail = load_detail(Progress(), two, world.supervisor, can.id)
    assert all(v.image is None for v in detail.sides)
    assert all("photo store" in v.problem and "try again" in v.problem.lower()
               for v in detail.sides), detail.sides[0].problem
    assert all("was saved" not in v.problem for v in detail.sides)   # a read saves nothing
    own_seaweed.start()
    deadline = time.monotonic() + 90          # its volume server may need a moment more
    while True:
        again = load_detail(Progress(), two, world.supervisor, can.id)
        if [v.problem for v in again.sides] == [""] * len(SIDES) or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert [v.problem for v in again.sides] == [""] * len(SIDES)
    assert all(v.image is not None for v in again.sides)


def test_the_site_sync_beats_and_brings_the_rolled_out_model(site: Callable[..., Station],
                                                             clock: FakeClock) -> None:
    one, two = site("line-1"), site("line-2")
    world = populate(one)
    folder = write_model_folder(one.data_dir / "models" / "cam-7", b"weights seven")
    info = one.models.register(world.admin, "cam", str(folder), "cam", "effnet", "7", {},
                               {"review": 0.4, "reject": 0.6}, {})
    one.site_models.publish(world.admin, info.id)
    one.models.activate(world.admin, info.id, [world.product_id])
    shutil.rmtree(folder)          # line-2's machine never had line-1's folder
    clock.advance(minutes=5)
    sync = SiteSync(two)
    brought = sync.run_once()
    package = one.models.get(world.admin, info.id).package_sha256
    assert brought == [str(two.data_dir / "site-models" / package)]
    assert (Path(brought[0]) / "weights.safetensors").read_bytes() == b"weights seven"
    assert hashlib.sha256((Path(brought[0]) / "model.json").read_bytes()).hexdigest() == package
    assert sync.run_once() == []                     # already here: nothing to bring
    me = next(s for s in two.stations.list(world.admin) if s.id == two.station_id)
    assert me.last_contact == clock()                # the heartbeat
    sync.start()                                     # the thread runs a round and stops
    sync.stop()
