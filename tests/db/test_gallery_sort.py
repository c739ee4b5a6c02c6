"""Gallery pages sorted by a name from another table (product, warehouse, operator) are read one
name at a time (db.services.filters.page_ids): every page, at every offset, in both directions
and with filters, is the page of the plain joined ORDER BY."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import asc, desc, select

from db import GalleryFilter, Station
from db.schema import Inspection, Product, User, Warehouse
from tests.db.helpers import SIDES, World, new_inspection

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
NAME = {"product": (Product, Product.sku, Inspection.product_id),
        "warehouse": (Warehouse, Warehouse.name, Inspection.warehouse_id),
        "operator": (User, User.username, Inspection.operator_id)}


def _joined_order(station: Station, f: GalleryFilter, sort: str) -> list[int]:
    """Every matching id in the order the page must follow, by the joined query."""
    table, name, key = NAME[sort.lstrip("-")]
    d = desc if sort.startswith("-") else asc
    q = select(Inspection.id).join(table, key == table.id)
    for field in ("product_id", "warehouse_id", "operator_id"):
        if getattr(f, field) is not None:
            q = q.where(getattr(Inspection, field) == getattr(f, field))
    if f.verdict is not None:
        q = q.where(Inspection.final_verdict == f.verdict)
    with station.database.read() as s:
        return list(s.scalars(q.order_by(d(name), d(Inspection.started), d(Inspection.id))))


def test_pages_sorted_by_a_name_match_the_joined_order(station: Station, world: World) -> None:
    rng = random.Random(8)
    hall_b = station.warehouses.create(world.admin, "Annex", 1000).id
    # SKUs whose order differs from their ids; one product never inspected.
    products = [world.product_id] + [station.products.create(
        world.admin, sku, sku, rng.choice([world.warehouse_id, hall_b]), 0, SIDES).id
        for sku in ("ZUCCHINI", "APPLES", "MANGO", "EMPTY")]
    for n in range(60):
        station.inspections.record(
            rng.choice([world.operator, world.operator2, world.supervisor]),
            new_inspection(rng.choice(products[:4]), str(n), rng.choice(["pass", "reject"]),
                           T0 + timedelta(minutes=rng.randrange(0, 600))))
    for f in (GalleryFilter(), GalleryFilter(verdict="reject"),
              GalleryFilter(product_id=products[2]), GalleryFilter(warehouse_id=hall_b)):
        for sort in ("product", "-product", "warehouse", "-warehouse", "operator", "-operator"):
            want = _joined_order(station, f, sort)
            for offset, limit in ((0, 7), (5, 7), (13, 20), (len(want) - 3, 10),
                                  (len(want), 5), (0, 1000)):
                got = [r.id for r in station.inspections.page(world.supervisor, f, sort,
                                                              offset, limit)]
                assert got == want[offset:offset + limit], (f, sort, offset, limit)


def test_an_operator_sorting_by_operator_sees_only_their_own(station: Station,
                                                             world: World) -> None:
    mine = [station.inspections.record(world.operator, new_inspection(
        world.product_id, f"m{n}", started=T0 + timedelta(minutes=n))).id for n in range(3)]
    station.inspections.record(world.operator2, new_inspection(world.product_id, "other"))
    assert [r.id for r in station.inspections.page(world.operator, None, "-operator")] == \
        mine[::-1]


def test_an_unknown_sort_is_refused(station: Station, world: World) -> None:
    from db import ValidationError
    with pytest.raises(ValidationError):
        station.inspections.page(world.supervisor, None, "colour")
