"""Builders and fakes shared by the db tests."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import MetaData, func, select

from db import Actor, NewInspection, NewSide, Role, Station

SIDES = ("top", "bottom", "side-0", "side-60", "side-120", "side-180", "side-240")
PASSWORD = "correct horse"
PNG = b"\x89PNG\r\n\x1a\n"   # what record() sniffs: the bytes after it need not decode (db never does)


class FakeClock:
    """An injectable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kwargs: float) -> None:
        self.t += timedelta(**kwargs)


@dataclass
class World:
    """A small populated station: one user per role, a warehouse and a product."""

    admin: Actor
    supervisor: Actor
    operator: Actor
    operator2: Actor
    warehouse_id: int
    product_id: int


def populate(station: Station) -> World:
    admin = station.auth.create_first_admin("admin", PASSWORD)
    sup = station.users.create(admin, "sue", PASSWORD, Role.SUPERVISOR)
    op = station.users.create(admin, "otto", PASSWORD, Role.OPERATOR)
    op2 = station.users.create(admin, "olga", PASSWORD, Role.OPERATOR)
    w = station.warehouses.create(admin, "Hall A", 1000, location="North")
    p = station.products.create(admin, "BEANS-400", "Beans 400 g", w.id, 100, SIDES)
    return World(admin, Actor(sup.id, sup.username, sup.role), Actor(op.id, op.username, op.role),
                 Actor(op2.id, op2.username, op2.role), w.id, p.id)


def new_side(name: str, seed: str = "", label: str = "Good", outcome: str = "pass",
             score: float = 0.2, heatmap: bool = True) -> NewSide:
    image = PNG + f"image {name} {seed}".encode()
    return NewSide(side_name=name, image_bytes=image, image_ext="png",
                   heatmap_bytes=PNG + f"heat {name} {seed}".encode() if heatmap else None,
                   score=score, label=label, outcome=outcome,
                   boxes=[{"x0": 1, "y0": 2, "x1": 3, "y1": 4, "score": 0.7}] if label == "Anomaly"
                   else [])


def new_inspection(product_id: int, seed: str = "", verdict: str = "pass",
                   started: datetime | None = None, thumbnail: bool = False,
                   bad_sides: tuple[str, ...] = ()) -> NewInspection:
    started = started or datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    sides = [new_side(n, seed, "Anomaly" if n in bad_sides else "Good",
                      verdict if n in bad_sides else "pass") for n in SIDES]
    return NewInspection(product_id=product_id, station_name="line-1", started=started,
                         finished=started + timedelta(seconds=2), model_name="cam-effnet",
                         model_version="1.0", verdict=verdict, sides=sides,
                         thumbnail_bytes=b"\x89PNG\r\n\x1a\nthumb" + seed.encode()
                         if thumbnail else None)


_reflected: dict[int, MetaData] = {}


def snapshot(station: Station) -> dict:
    """Every row of every table, and every file under the data folder: equal snapshots mean
    nothing changed."""
    meta = _reflected.get(id(station))
    if meta is None:
        meta = _reflected[id(station)] = MetaData()
        meta.reflect(station.database.engine)
    out: dict = {}
    with station.database.engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            order = [c for c in table.primary_key.columns] or list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
        out["_count"] = conn.execute(select(func.count()).select_from(meta.tables["users"])).scalar()
    files = sorted(str(p.relative_to(station.data_dir)) for p in station.data_dir.rglob("*")
                   if p.is_file() and p.name != ".last-sweep" and "sqlite3" not in p.name)
    out["_files"] = files
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_model_folder(folder: Path, weights: bytes, **spec: object) -> Path:
    """A model folder as db sees one (db never loads the network): model.json recording the
    weights' SHA-256, and the weights' bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.safetensors").write_bytes(weights)
    (folder / "model.json").write_text(json.dumps(
        {"format_version": 2, "name": folder.name, **spec,
         "weights_sha256": hashlib.sha256(weights).hexdigest()}))
    return folder
