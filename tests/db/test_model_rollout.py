"""Activating a model for several products in one transaction, rolling back, stored evaluations
(issue 10 item 7 and the activation gate of issue 8: the database side)."""
from __future__ import annotations

import pytest

from db import Conflict, NotFound, Station, ValidationError
from tests.db.helpers import SIDES, World, snapshot


def _model(station: Station, world: World, version: str) -> int:
    return station.models.register(world.admin, "cam", f"models/cam-{version}", "cam",
                                   "efficientnet_lite0", version, {}, {"review": 0.4,
                                                                       "reject": 0.6}, {}).id


def _products(station: Station, world: World, n: int) -> list[int]:
    return [station.products.create(world.admin, f"P{k}", f"Product {k}", world.warehouse_id, 0,
                                    SIDES).id for k in range(n)]


def test_activate_for_many_products_is_all_or_nothing(station: Station, world: World) -> None:
    old, new = _model(station, world, "1"), _model(station, world, "2")
    p1, p2 = _products(station, world, 2)
    station.models.activate(world.admin, old, [p1, p2])
    before = snapshot(station)
    with pytest.raises(NotFound):               # the last product does not exist: none changes
        station.models.activate(world.admin, new, [p1, p2, 9999])
    assert snapshot(station) == before
    station.models.activate(world.admin, new, [p2, p1, p1])
    for p in (p1, p2):
        info = station.products.get(world.admin, p)
        assert (info.model_id, info.previous_model_id) == (new, old)
    assert station.models.get(world.admin, new).product_ids == (p1, p2)
    events = station.audit.list(world.admin, action="model.activate")
    assert [(e.target, e.details["previous_model_id"]) for e in events[:2]] == [
        (f"product:{p2}", old), (f"product:{p1}", old)]
    # Activating the model a product already has keeps its previous model.
    station.models.activate(world.admin, new, [p1])
    assert station.products.get(world.admin, p1).previous_model_id == old
    with pytest.raises(ValidationError):
        station.models.activate(world.admin, new, [])


def test_rollback_swaps_active_and_previous(station: Station, world: World) -> None:
    old, new = _model(station, world, "1"), _model(station, world, "2")
    (p,) = _products(station, world, 1)
    with pytest.raises(Conflict):               # no previous model yet
        station.models.rollback(world.admin, p)
    station.models.activate(world.admin, old, [p])
    station.models.activate(world.admin, new, [p])
    back = station.models.rollback(world.admin, p)
    assert (back.model_id, back.previous_model_id) == (old, new)
    again = station.models.rollback(world.admin, p)       # undo the rollback
    assert (again.model_id, again.previous_model_id) == (new, old)
    assert [e.details["model_id"] for e in station.audit.list(world.admin,
                                                             action="model.rollback")] == [new, old]


def test_deleting_a_previous_model_drops_the_rollback(station: Station, world: World) -> None:
    old, new = _model(station, world, "1"), _model(station, world, "2")
    (p,) = _products(station, world, 1)
    station.models.activate(world.admin, old, [p])
    station.models.activate(world.admin, new, [p])
    station.models.record_evaluation(world.admin, old, {"auroc": 0.9}, 10, 0, "folder")
    station.models.delete(world.admin, old)
    assert station.products.get(world.admin, p).previous_model_id is None
    with pytest.raises(NotFound):
        station.models.evaluations(world.admin, old)


def test_evaluations_are_stored_newest_first(station: Station, world: World, clock) -> None:
    m = _model(station, world, "1")
    summary = {"can": {"auroc": 0.97, "n_good": 40, "n_defect": 12}, "per_image": [0.1, 0.2]}
    first = station.models.record_evaluation(world.admin, m, summary, 364, 0, "/data/cans/test")
    clock.advance(minutes=5)
    second = station.models.record_evaluation(world.admin, m, {"auroc": 0.5}, 20, 20, "gallery")
    got = station.models.evaluations(world.operator, m)
    assert [e.id for e in got] == [second.id, first.id]
    assert got[1].data == summary and got[1].n_images == 364 and got[1].n_overlap_training == 0
    assert got[1].username == "admin" and got[1].source == "/data/cans/test"
    assert got[0].created_at > got[1].created_at
    for data, n, overlap, field in (({"x": float("nan")}, 1, 0, "data"), ([1], 1, 0, "data"),
                                    ({}, 3, 4, "n_overlap_training"), ({}, -1, 0, "n_images")):
        with pytest.raises(ValidationError) as e:
            station.models.record_evaluation(world.admin, m, data, n, overlap, "x")
        assert e.value.field == field
