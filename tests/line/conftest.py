"""Fixtures of the line's tests: the real pypylon SDK with its camera emulator playing real can
photos, a real station (SQLite) with the bundled model, and the real OPC UA and Modbus servers
on loopback ports picked here. Nothing is mocked.

``PYLON_CAMEMU`` must be set before pypylon is first imported: it is set here, at import.
"""
from __future__ import annotations

import os

os.environ["PYLON_CAMEMU"] = "4"   # four emulated cameras: 0815-0000 ... 0815-0003

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.first_start import install_bundled_model
from core.sides import DEFAULT_SIDE_NAMES
from db import Actor, Role, Station
from db.passwords import PasswordHasher
from line.config import LineConfig
from tests.ports import free_port  # noqa: F401  (the line tests import it from here)


def _cans() -> Path:
    """The can photos (../shared/datasets/cans beside the repository, as the benchmarks read
    them; $STATION_CANS_DIR overrides)."""
    if os.environ.get("STATION_CANS_DIR"):
        return Path(os.environ["STATION_CANS_DIR"])
    for root in Path(__file__).resolve().parents:
        candidate = root / "shared" / "datasets" / "cans"
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/datasets/cans")


CANS = _cans()
# Seven good photos the bundled model passes with a margin, and a defective one it rejects, so
# that the tests see both verdicts. The tests compare the line's answers with a direct inspection
# of the same files, never with these labels.
GOOD = ["IMG_20220624_155932.jpg", "IMG_20220624_155156.jpg", "IMG_20220624_155657.jpg",
        "IMG_20220624_155425.jpg", "IMG_20221108_091421.jpg", "IMG_20221108_092514.jpg",
        "IMG_20220624_155219.jpg"]
DEFECT = "IMG_20220923_224003.jpg"
PLC_USER, PLC_PASSWORD = "plc1", "lantern staple orbit"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class LineWorld:
    station: Station
    admin: Actor
    line_user: Actor             # the account the line records its cans as
    product_id: int
    sku: str
    model_folder: str
    data_dir: Path
    photos: Path                 # the emulator's folder: can 1 (all good), can 2 (side 4 defect)
    files: list[Path]            # in the order the emulator plays them


def make_photos(folder: Path) -> list[Path]:
    """Links to real photos, named in play order: can 1 = the seven good ones, can 2 = the same
    with side 4 replaced by the defective photo."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [CANS / "good" / n for n in GOOD] + [CANS / "good" / n for n in GOOD]
    sources[7 + 3] = CANS / "defect" / DEFECT
    files = []
    for i, src in enumerate(sources):
        assert src.is_file(), f"the test photo {src} is missing"
        link = folder / f"{i:02d}.jpg"
        link.symlink_to(src)
        files.append(link)
    return files


@pytest.fixture
def line_world(tmp_path: Path) -> Iterator[LineWorld]:
    data = tmp_path / "data"
    station = Station.open(None, data, password_hasher=FAST_HASHER)
    try:
        admin = station.auth.create_first_admin("admin", "correct horse battery")
        user = station.users.create(admin, "line", "plank ribbon quiver", Role.OPERATOR)
        station.users.create(admin, PLC_USER, PLC_PASSWORD, Role.OPERATOR)
        model = install_bundled_model(station, data / "models")
        assert model is not None, "the bundled default model is missing"
        w = station.warehouses.create(admin, "Hall A", 10_000)
        p = station.products.create(admin, "BEANS-400", "Beans 400 g", w.id, 100,
                                    DEFAULT_SIDE_NAMES, model_id=model.id)
        photos = tmp_path / "emulator"
        files = make_photos(photos)
        yield LineWorld(station, admin, Actor(user.id, user.username, user.role), p.id, p.sku,
                        model.folder, data, photos, files)
    finally:
        station.close()


def line_config(world: LineWorld, **timing: Any) -> LineConfig:
    """One emulated camera on a turning fixture, playing the world's photos."""
    return LineConfig.from_dict({
        "cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000",
                                  "emulator_images": str(world.photos), "roi": [0, 0, 640, 640],
                                  "trigger": "software"}},
        "recipes": {"*": {"camera": "turntable"}},
        "timing": {"deadline_ms": 10_000, "step_timeout_s": 30, **timing},
    })


@contextmanager
def running_line(world: LineWorld, config: LineConfig, **kwargs: Any) -> Iterator[Any]:
    from line.controller import LineController

    controller = LineController(world.station, world.line_user, config, "test-line",
                                torch_threads=1, camera_retry_s=0.2, **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def expected_cans(world: LineWorld) -> list[Any]:
    """A direct inspection of the two cans' files with the product's model (the reference)."""
    from core.model.io import load_model
    from core.verdict import inspect_can

    model = load_model(world.model_folder)
    return [inspect_can(model, world.files[i:i + 7], DEFAULT_SIDE_NAMES) for i in (0, 7)]
