"""A demo station for screenshots and trying the program: real photos, a real model, real records.

``build_demo(data_dir, model_dir, images_dir, cans)`` makes users of each role, three warehouses,
four products using the model, and ``cans`` inspections: seven photos of real cans from
``images_dir`` (``good/`` and ``defect/``) per can, judged by the real model through
``core.verdict.inspect_can`` and recorded through the services, spread over the last two weeks.

Nothing here is made up by hand: the verdicts, scores and heatmaps are the model's.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.first_start import install_bundled_model
from app.recording import OriginalImage, to_new_inspection
from app.spc import shift_at
from core.model.io import load_model
from core.sides import DEFAULT_SIDE_NAMES
from core.verdict import inspect_can
from db import Actor, Role, Station, StationDataError

PASSWORD = "demo station password"
WAREHOUSES = (("Hall A", "North wing", 20000), ("Cold store", "Basement", 6000),
              ("Dispatch", "Loading bay 2", 8000))
PRODUCTS = (("BEANS-400", "Baked beans 400 g", 0, 4200), ("TOM-400", "Chopped tomatoes 400 g", 0, 3900),
            ("SOUP-300", "Tomato soup 300 ml", 1, 2500), ("CORN-340", "Sweet corn 340 g", 2, 1800))


@dataclass
class Demo:
    station: Station
    admin: Actor
    supervisor: Actor
    operators: list[Actor]
    product_ids: list[int]
    model_folder: Path
    inspection_ids: list[int]


def _actor(info) -> Actor:
    return Actor(info.id, info.username, info.role)


def build_demo(station: Station, models_dir: Path, model_dir: Path, images_dir: Path,
               cans: int = 30, seed: int = 7, station_name: str = "line-1",
               history: int = 0) -> Demo:
    """``history``: that many more records for the control charts: the cans judged above,
    recorded again for the first product at other hours of the last 20 days (three shifts a
    day), drawn to give about 6 % rejects, with one bad day (25 %) for the chart to flag."""
    rng = random.Random(seed)
    info = install_bundled_model(station, models_dir, source=model_dir)
    admin = station.auth.create_first_admin("admin", PASSWORD)
    sup = _actor(station.users.create(admin, "sue.miller", PASSWORD, Role.SUPERVISOR))
    ops = [_actor(station.users.create(admin, name, PASSWORD, Role.OPERATOR))
           for name in ("otto.berg", "olga.novak", "ravi.shah")]
    station.users.create(admin, "temp.worker", PASSWORD, Role.OPERATOR)
    for name in ("admin", "sue.miller", "otto.berg", "olga.novak"):
        station.auth.sign_in(name, PASSWORD)
    for _ in range(5):              # five wrong passwords: the service locks the account
        try:
            station.auth.sign_in("temp.worker", "a wrong guess")
        except StationDataError:
            pass
    warehouses = [station.warehouses.create(admin, n, cap, location=loc).id
                  for n, loc, cap in WAREHOUSES]
    products = [station.products.create(admin, sku, name, warehouses[w], qty, DEFAULT_SIDE_NAMES,
                                        model_id=info.id).id
                for sku, name, w, qty in PRODUCTS]
    model = load_model(info.folder)
    good = sorted((images_dir / "good").glob("*.jpg"))
    bad = sorted((images_dir / "defect").glob("*.jpg"))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    ids: list[int] = []
    judged: list = []
    for n in range(cans):
        photos = rng.sample(good, len(DEFAULT_SIDE_NAMES))
        if rng.random() < 0.35:                   # about a third of the cans have a dent
            photos[rng.randrange(len(photos))] = rng.choice(bad)
        result = inspect_can(model, [str(p) for p in photos], DEFAULT_SIDE_NAMES)
        operator = ops[n % len(ops)] if n % 7 else sup
        product = products[rng.randrange(len(products))]
        new = to_new_inspection(result, product, station_name,
                                [OriginalImage.from_path(p) for p in photos])
        if n < cans // 3:          # the shift now running: its report has something to show
            shift_start = shift_at(datetime.now(timezone.utc)).start
            span = max(60, int((datetime.now(timezone.utc) - shift_start).total_seconds()))
            started = shift_start + timedelta(seconds=rng.randrange(span))
        else:
            started = now - timedelta(days=rng.randrange(1, 14), hours=rng.randrange(8),
                                      minutes=rng.randrange(60))
        new = replace(new, started=started, finished=started + (result.finished - result.started))
        ids.append(station.inspections.record(operator, new).id)
        judged.append(new)
        print(f"  can {n + 1}/{cans}: {result.verdict.value}", flush=True)
    if history:
        _history(station, rng, judged, products[0], ops, history, now)
    return Demo(station, admin, sup, ops, products, Path(info.folder), ids)


def _history(station: Station, rng: random.Random, judged: list, product: int,
             ops: list[Actor], count: int, now: datetime) -> None:
    pools = {v: [n for n in judged if n.verdict == v] for v in ("pass", "review", "reject")}
    if not pools["pass"] or not pools["reject"]:
        return
    days, shifts = 20, (6, 14, 22)
    per_shift = max(1, count // (days * len(shifts)))
    local_midnight = now.astimezone().replace(hour=0, minute=0)
    for day in range(days, 0, -1):
        bad_day = day == 6
        for k, hour in enumerate(shifts):
            start = local_midnight - timedelta(days=day) + timedelta(hours=hour)
            for _ in range(per_shift):
                roll = rng.random()
                verdict = ("reject" if roll < (0.25 if bad_day else 0.06) else
                           "review" if roll < (0.30 if bad_day else 0.10) and pools["review"]
                           else "pass")
                new = replace(rng.choice(pools[verdict]), product_id=product,
                              started=start + timedelta(minutes=rng.randrange(470)))
                new = replace(new, finished=new.started + timedelta(seconds=1))
                station.inspections.record(ops[k % len(ops)], new)
        print(f"  history: day -{day} recorded", flush=True)


def existing_demo(station: Station, model_dir: Path) -> Demo:
    """The demo a kept data folder already holds (``screenshots.py --keep-data`` run again)."""
    admin = station.auth.sign_in("admin", PASSWORD)
    sup = station.auth.sign_in("sue.miller", PASSWORD)
    ops = [station.auth.sign_in(n, PASSWORD) for n in ("otto.berg", "olga.novak", "ravi.shah")]
    products = [p.id for p in station.products.list(admin)]
    model = next(m for m in station.models.list(admin) if m.product_ids)
    ids = [r.id for r in station.inspections.page(admin, None, "-started", 0, 1000)]
    return Demo(station, admin, sup, ops, products, Path(model.folder), ids)
