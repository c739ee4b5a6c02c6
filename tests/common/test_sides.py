"""The side count is one number the engine, the records and the GUI share: a product takes exactly
the default names' count, an inspection at most that many sides, one forward pass takes one can."""
from __future__ import annotations

from dataclasses import replace

import pytest

from common.sides import DEFAULT_SIDE_NAMES, SIDES_PER_CAN
from core.model.model import MAX_BATCH
from db import Station, ValidationError
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import new_inspection


def test_the_default_names_are_distinct_and_fill_a_product(tmp_path):
    assert len(set(DEFAULT_SIDE_NAMES)) == len(DEFAULT_SIDE_NAMES) == SIDES_PER_CAN
    assert MAX_BATCH == SIDES_PER_CAN
    station = Station.open(None, tmp_path, password_hasher=FAST_HASHER)
    try:
        admin = station.auth.create_first_admin("admin", "a long password")
        hall = station.warehouses.create(admin, "Hall", 100).id
        product = station.products.create(admin, "P", "Peas", hall, 0, DEFAULT_SIDE_NAMES)
        assert tuple(product.side_names) == DEFAULT_SIDE_NAMES
        with pytest.raises(ValidationError, match=f"{SIDES_PER_CAN} sides"):
            station.products.create(admin, "Q", "Peas", hall, 0, DEFAULT_SIDE_NAMES[:-1])
        one_can = new_inspection(product.id, "x")
        too_many = replace(one_can, sides=one_can.sides + one_can.sides[:1])
        with pytest.raises(ValidationError, match=f"one to {SIDES_PER_CAN} side results"):
            station.inspections.record(admin, too_many)
    finally:
        station.close()
