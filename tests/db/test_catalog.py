"""Warehouses (capacity, free space, overfill), products (SKU, sides, thresholds) and models."""
from __future__ import annotations

import pytest

from db import Conflict, NotFound, Station, ValidationError
from tests.db.helpers import SIDES, World, new_inspection


def test_free_space_is_capacity_minus_stock(station: Station, world: World) -> None:
    w = station.warehouses.get(world.admin, world.warehouse_id)
    assert (w.capacity, w.stored, w.free) == (1000, 100, 900)
    station.products.create(world.admin, "PEAS-200", "Peas", w.id, 250, SIDES)
    listed = {x.name: x for x in station.warehouses.list(world.operator)}
    assert (listed["Hall A"].stored, listed["Hall A"].free) == (350, 650)


def test_overfill_is_refused_on_create_restock_and_move(station: Station, world: World) -> None:
    a = world.warehouse_id
    b = station.warehouses.create(world.admin, "Hall B", 50).id
    with pytest.raises(ValidationError) as e:
        station.products.create(world.admin, "BIG", "Too many", a, 901, SIDES)
    assert e.value.field == "quantity" and "900" in e.value.message
    assert station.products.create(world.admin, "FIT", "Exactly", a, 900, SIDES).quantity == 900
    with pytest.raises(ValidationError):
        station.products.update(world.admin, world.product_id, quantity=101)
    station.products.update(world.admin, world.product_id, quantity=60)
    with pytest.raises(ValidationError):        # 60 cans do not fit into 50
        station.products.update(world.admin, world.product_id, warehouse_id=b)
    moved = station.products.update(world.admin, world.product_id, warehouse_id=b, quantity=50)
    assert (moved.warehouse_id, moved.warehouse_name, moved.quantity) == (b, "Hall B", 50)
    assert station.warehouses.get(world.admin, b).free == 0
    assert station.warehouses.get(world.admin, a).free == 100


def test_capacity_cannot_drop_below_stock(station: Station, world: World) -> None:
    with pytest.raises(ValidationError) as e:
        station.warehouses.update(world.admin, world.warehouse_id, capacity=99)
    assert e.value.field == "capacity"
    w = station.warehouses.update(world.admin, world.warehouse_id, capacity=100, notes="full")
    assert (w.capacity, w.free, w.notes) == (100, 0, "full")


def test_warehouse_validation_and_unique_name(station: Station, world: World) -> None:
    with pytest.raises(Conflict):
        station.warehouses.create(world.admin, "Hall A", 10)
    with pytest.raises(ValidationError) as e:
        station.warehouses.create(world.admin, "Hall C", -1)
    assert e.value.field == "capacity"
    with pytest.raises(ValidationError) as n:
        station.warehouses.create(world.admin, "   ", 1)
    assert n.value.field == "name"


def test_warehouse_delete_only_when_empty(station: Station, world: World) -> None:
    with pytest.raises(Conflict):
        station.warehouses.delete(world.admin, world.warehouse_id)
    empty = station.warehouses.create(world.admin, "Empty", 10)
    station.warehouses.delete(world.admin, empty.id)
    with pytest.raises(NotFound):
        station.warehouses.get(world.admin, empty.id)
    actions = [e.action for e in station.audit.list(world.admin, action="warehouse.")]
    assert actions == ["warehouse.delete", "warehouse.create", "warehouse.create"]


@pytest.mark.parametrize("sides,why", [(SIDES[:6], "7"), ((*SIDES[:6], "top"), "own name"),
                                       ((*SIDES[:6], " "), "empty")])
def test_products_need_seven_distinct_side_names(station: Station, world: World, sides,
                                                 why: str) -> None:
    with pytest.raises(ValidationError) as e:
        station.products.create(world.admin, "X", "X", world.warehouse_id, 0, sides)
    assert e.value.field == "side_names"


@pytest.mark.parametrize("thresholds", [{"review": 0.7, "reject": 0.6}, {"review": -0.1,
                                        "reject": 0.5}, {"review": 0.3}, {"review": 0.3,
                                        "reject": float("nan")}])
def test_threshold_overrides_are_checked(station: Station, world: World,
                                         thresholds: dict) -> None:
    with pytest.raises(ValidationError) as e:
        station.products.update(world.admin, world.product_id, thresholds=thresholds)
    assert e.value.field == "thresholds"


def test_product_edit_sku_and_delete(station: Station, world: World) -> None:
    p = station.products.update(world.admin, world.product_id,
                                thresholds={"review": 0.4, "reject": 0.6}, name="Beans 0.4 kg")
    assert p.thresholds == {"review": 0.4, "reject": 0.6} and p.name == "Beans 0.4 kg"
    assert station.products.update(world.admin, p.id, thresholds=None).thresholds is None
    other = station.products.create(world.admin, "PEAS", "Peas", world.warehouse_id, 0, SIDES)
    with pytest.raises(Conflict) as e:
        station.products.update(world.admin, other.id, sku="BEANS-400")
    assert e.value.field == "sku"
    station.inspections.record(world.operator, new_inspection(world.product_id))
    with pytest.raises(Conflict):
        station.products.delete(world.admin, world.product_id)
    station.products.delete(world.admin, other.id)
    assert [p.sku for p in station.products.list(world.operator)] == ["BEANS-400"]


def _register(station: Station, world: World, version: str = "1.0"):
    return station.models.register(world.admin, "cam-effnet", f"models/cam-{version}", "cam",
                                   "efficientnet_lite0", version, {"auroc": 0.98},
                                   {"review": 0.4, "reject": 0.6}, {"images": 200})


def test_model_registry_and_one_active_model_per_product(station: Station, world: World) -> None:
    m1 = _register(station, world, "1.0")
    m2 = _register(station, world, "2.0")
    assert m1.trained_by == "admin" and m1.metrics == {"auroc": 0.98}
    with pytest.raises(Conflict):
        _register(station, world, "1.0")
    assert station.models.active_for_product(world.operator, world.product_id) is None
    station.models.activate_for_product(world.admin, m1.id, world.product_id)
    station.models.activate_for_product(world.admin, m2.id, world.product_id)
    active = station.models.active_for_product(world.operator, world.product_id)
    assert active.id == m2.id and active.product_ids == (world.product_id,)
    assert station.models.get(world.admin, m1.id).product_ids == ()
    with pytest.raises(Conflict):                 # in use
        station.models.delete(world.admin, m2.id)
    station.models.delete(world.admin, m1.id)
    assert [m.version for m in station.models.list(world.operator)] == ["2.0"]
    ev = station.audit.list(world.admin, action="model.activate")
    assert ev[0].details["model_id"] == m2.id and ev[0].details["previous_model_id"] == m1.id


def test_model_thresholds(station: Station, world: World) -> None:
    m = _register(station, world)
    assert station.models.set_thresholds(world.admin, m.id, {"review": 0.3, "reject": 0.7}
                                         ).thresholds == {"review": 0.3, "reject": 0.7}
    with pytest.raises(ValidationError):
        station.models.set_thresholds(world.admin, m.id, {"review": 0.8, "reject": 0.7})


def test_bundled_model_is_registered_by_the_system_once(station: Station, world: World) -> None:
    args = ("default", "resources/models/default", "cam", "efficientnet_lite0", "0.1", {},
            {"review": 0.45, "reject": 0.55}, {})
    first = station.models.register_system(*args)
    again = station.models.register_system(*args)
    assert first.id == again.id and first.trained_by == "system"
    ev = station.audit.list(world.admin, action="model.register")
    assert [(e.username, e.user_id) for e in ev] == [("system", None)]


@pytest.mark.parametrize("name", ["hall a", "HALL A", "Hall  A", "\uff28all A", "Hall\u200b A"])
def test_warehouse_names_are_unique_however_written(station: Station, world: World,
                                                    name: str) -> None:
    """Issue 9 item 13: "Main store" and "main store" could coexist."""
    with pytest.raises(Conflict) as e:
        station.warehouses.create(world.admin, name, 10)
    assert e.value.field == "name" and "'Hall A'" in str(e.value)
    # Its own name may change case.
    assert station.warehouses.update(world.admin, world.warehouse_id, name="HALL A").name == \
        "HALL A"


def test_skus_are_unique_however_written(station: Station, world: World) -> None:
    with pytest.raises(Conflict) as e:
        station.products.create(world.admin, "beans-400", "Beans", world.warehouse_id, 0, SIDES)
    assert e.value.field == "sku"
    other = station.products.create(world.admin, "PEAS", "Peas", world.warehouse_id, 0, SIDES)
    with pytest.raises(Conflict):
        station.products.update(world.admin, other.id, sku="\uff42eans-400")
    assert station.products.update(world.admin, other.id, sku="peas").sku == "peas"


def test_region_recipe_is_checked_and_kept(station: Station, world: World) -> None:
    recipe = ('{"default": {"mode": "auto"}, "sides": {"top": {"mode": "fixed", '
              '"shape": "ellipse", "box": [0.1, 0.1, 0.9, 0.9]}}}')
    p = station.products.update(world.admin, world.product_id, region_recipe=recipe)
    assert p.region_recipe is not None and '"ellipse"' in p.region_recipe
    assert station.products.get(world.operator, world.product_id).region_recipe == p.region_recipe
    for bad in ('{"sides": {"lid": {"mode": "whole"}}}', '{"default": {"mode": "magic"}}',
                "not json", '{"sides": {"top": {"mode": "fixed", "box": [0, 0, 0.01, 0.01]}}}'):
        with pytest.raises(ValidationError) as e:
            station.products.update(world.admin, world.product_id, region_recipe=bad)
        assert e.value.field == "region_recipe"
    # Renaming a side that has a region would lose it: refused.
    with pytest.raises(ValidationError) as e:
        station.products.update(world.admin, world.product_id,
                                side_names=["lid", *SIDES[1:]])
    assert e.value.field == "region_recipe"
    assert station.products.update(world.admin, world.product_id,
                                   region_recipe=None).region_recipe is None
    created = station.products.create(world.admin, "NEW", "New", world.warehouse_id, 0, SIDES,
                                      region_recipe='{"default": {"mode": "whole"}}')
    assert created.region_recipe == '{"default": {"mode": "whole"}}'


@pytest.mark.parametrize("thresholds", [{"review": 0.6, "reject": 0.7},
                                        {"review": 0.3, "reject": 0.45}])
def test_thresholds_the_engine_refuses_are_refused_here(station: Station, world: World,
                                                        thresholds: dict) -> None:
    """Issue 9 item 10: db accepted review 0.6 / reject 0.7, and every Inspect failed."""
    with pytest.raises(ValidationError) as e:
        station.products.update(world.admin, world.product_id, thresholds=thresholds)
    assert e.value.field == "thresholds" and "0.5" in e.value.message
    m = _register(station, world)
    with pytest.raises(ValidationError):
        station.models.set_thresholds(world.admin, m.id, thresholds)
