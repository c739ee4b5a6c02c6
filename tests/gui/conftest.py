"""Fixtures for the GUI tests: a real Station on a temporary SQLite file, one user per role, a
warehouse and a product, an AppContext per role, and a guard that FAILS any test leaving a
worker thread running.

Qt runs offscreen; the variable is set before anything imports PyQt5.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.results import heatmap_to_png16
from core.settings import Settings
from core.sides import DEFAULT_SIDE_NAMES
from db import Actor, NewInspection, NewSide, Role, Station
from db.passwords import PasswordHasher

PASSWORD = "correct horse"
# still argon2id, with the smallest cost, so the suite does not spend its time hashing
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def no_thread_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a registered QThread (or a new non-daemon thread) running.

    A short grace lets a task that is delivering its last signal end; after that the test
    fails, and the threads are stopped so the next test starts clean.
    """
    from gui import workers

    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    app = _app_or_none()
    while workers.live_threads() and time.monotonic() < deadline:
        if app is not None:
            app.processEvents()
        time.sleep(0.01)
    qthreads = workers.live_thread_names()
    strays = [t.name for t in threading.enumerate()
              if t not in before and t.is_alive() and not t.daemon]
    if qthreads:
        workers.shutdown_all(timeout=5)
    assert not qthreads, f"{request.node.name} left worker threads running: {qthreads}"
    assert not strays, f"{request.node.name} left Python threads running: {strays}"


def _app_or_none():
    from PyQt5.QtWidgets import QApplication
    return QApplication.instance()


@dataclass
class World:
    station: Station
    settings: Settings
    admin: Actor
    supervisor: Actor
    operator: Actor
    warehouse_id: int
    product_id: int
    log_path: Path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", station_name="test-line")


@pytest.fixture
def station(settings: Settings) -> Iterator[Station]:
    st = Station.open(None, settings.data_dir, password_hasher=FAST_HASHER)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def world(station: Station, settings: Settings) -> World:
    admin = station.auth.create_first_admin("admin", PASSWORD)
    sup = station.users.create(admin, "sue", PASSWORD, Role.SUPERVISOR)
    op = station.users.create(admin, "otto", PASSWORD, Role.OPERATOR)
    w = station.warehouses.create(admin, "Hall A", 1000, location="North")
    p = station.products.create(admin, "BEANS-400", "Beans 400 g", w.id, 100, DEFAULT_SIDE_NAMES)
    return World(station, settings, admin, Actor(sup.id, sup.username, sup.role),
                 Actor(op.id, op.username, op.role), w.id, p.id,
                 settings.log_dir / "station.log")


@pytest.fixture
def make_ctx(world: World) -> Callable[..., object]:
    """``make_ctx(role or actor, inference=None)`` -> AppContext for that user."""
    from gui.context import AppContext

    def _make(who: Role | Actor = Role.ADMIN, inference: object = None):
        actor = who if isinstance(who, Actor) else {
            Role.ADMIN: world.admin, Role.SUPERVISOR: world.supervisor,
            Role.OPERATOR: world.operator}[who]
        return AppContext(world.settings, world.station, actor, inference, world.log_path)
    return _make


def can_image(seed: int, defect: bool = False, size: int = 96) -> tuple[bytes, np.ndarray]:
    """A small PNG of a can-like picture and its heatmap (a bright blob where the defect is)."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 170, np.uint8)
    cv2.rectangle(img, (20, 8), (76, 88), tuple(int(v) for v in rng.integers(60, 220, 3)), -1)
    heat = np.full((size, size), 0.1, np.float32)
    if defect:
        cv2.circle(img, (48, 48), 9, (40, 30, 20), -1)
        heat[38:58, 38:58] = 0.9
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes(), heat


def record_inspection(world: World, actor: Actor, verdict: str = "pass", *,
                      product_id: int | None = None, started: datetime | None = None,
                      seed: int = 0) -> int:
    """Record one real inspection (PNG photos, png16 heatmaps) through the service; its id."""
    started = started or datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    sides = []
    for i, name in enumerate(DEFAULT_SIDE_NAMES):
        bad = verdict != "pass" and i == 2
        png, heat = can_image(seed * 10 + i, defect=bad)
        outcome = verdict if bad else "pass"
        sides.append(NewSide(side_name=name, image_bytes=png, image_ext="png",
                             heatmap_bytes=heatmap_to_png16(heat), score=0.9 if bad else 0.2,
                             label="Anomaly" if bad else "Good", outcome=outcome,
                             boxes=[{"x0": 38, "y0": 38, "x1": 58, "y1": 58, "score": 0.9}]
                             if bad else []))
    thumb, _ = can_image(seed * 10)
    new = NewInspection(product_id=product_id or world.product_id, station_name="test-line",
                        started=started, finished=started + timedelta(seconds=1),
                        model_name="default", model_version="1", verdict=verdict, sides=sides,
                        thumbnail_bytes=thumb)
    return world.station.inspections.record(actor, new).id


# -- fixtures that several test modules share ----------------------------------------------------

@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    from tests.helpers import tiny_model_dir

    return tiny_model_dir(tmp_path_factory)


@pytest.fixture
def inference():
    from gui.inference import InferenceService

    svc = InferenceService(torch_threads=1)
    yield svc
    assert svc.shutdown()


@pytest.fixture
def panel_with(qtbot, make_ctx):
    panels = []

    def make(role: Role = Role.OPERATOR, source=None, inference=None):  # -> CapturePanel
        from gui.capture.panel import CapturePanel

        panel = CapturePanel(make_ctx(role, inference=inference),
                             source_factory=(lambda: source) if source is not None else None)
        qtbot.addWidget(panel)
        panel.resize(1200, 700)
        panels.append(panel)
        return panel
    yield make
    for panel in panels:
        panel.shutdown()


@pytest.fixture
def cans(world):
    """Six cans: otto 3 pass (2 Mar) + 2 reject (3 Mar); sue 1 review (4 Mar)."""
    ids = []
    for n in range(3):
        ids.append(record_inspection(world, world.operator, "pass", seed=n,
                                     started=datetime(2026, 3, 2, 8, n, tzinfo=timezone.utc)))
    for n in range(2):
        ids.append(record_inspection(world, world.operator, "reject", seed=10 + n,
                                     started=datetime(2026, 3, 3, 9, n, tzinfo=timezone.utc)))
    ids.append(record_inspection(world, world.supervisor, "review", seed=20,
                                 started=datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)))
    return ids


@pytest.fixture
def panel(qtbot, make_ctx, inference):
    """A capture panel of the operator with the inference worker."""
    from gui.capture.panel import CapturePanel

    p = CapturePanel(make_ctx(Role.OPERATOR, inference=inference))
    qtbot.addWidget(p)
    p.resize(1200, 700)
    yield p
    p.shutdown()
