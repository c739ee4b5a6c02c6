"""The audit log: every state change writes an event with who, what and when."""
from __future__ import annotations

from datetime import timedelta

import pytest

from db import Role, Station, ValidationError
from tests.db.helpers import SIDES, FakeClock, World, new_inspection


def test_changes_are_audited_in_order_with_who_and_when(station: Station, world: World,
                                                        clock: FakeClock) -> None:
    start = clock()
    clock.advance(minutes=1)
    a = world.admin
    w = station.warehouses.create(a, "Hall B", 10)
    station.warehouses.update(a, w.id, location="South")
    p = station.products.create(a, "NEW", "New", w.id, 1, SIDES)
    station.products.update(a, p.id, quantity=2)
    m = station.models.register(a, "m", "models/m", "cam", "resnet18", "1", {},
                                {"review": 0.4, "reject": 0.6}, {})
    station.models.activate_for_product(a, m.id, p.id)
    station.products.delete(a, p.id)
    station.users.set_role(a, world.operator.user_id, Role.SUPERVISOR)
    insp = station.inspections.record(world.operator2, new_inspection(world.product_id))
    station.corrections.correct_can(world.supervisor, insp.id, "review")
    station.inspections.delete(a, insp.id, "test can")
    events = list(reversed(station.audit.list(a, since=start + timedelta(seconds=30))))
    assert [(e.username, e.action) for e in events] == [
        ("admin", "warehouse.create"), ("admin", "warehouse.update"),
        ("admin", "product.create"), ("admin", "product.update"), ("admin", "model.register"),
        ("admin", "model.activate"), ("admin", "product.delete"), ("admin", "user.set_role"),
        ("sue", "correction.can"), ("admin", "inspection.delete")]
    assert all(e.at == clock() for e in events)
    assert events[3].details == {"quantity": 2} and events[3].target == f"product:{p.id}"
    assert station.audit.count(a, action="product.") == 4   # with the world's own product
    assert station.audit.count(a, user_id=world.supervisor.user_id) == 1


def test_a_refused_change_leaves_no_event(station: Station, world: World) -> None:
    before = station.audit.count(world.admin)
    with pytest.raises(ValidationError):
        station.warehouses.update(world.admin, world.warehouse_id, capacity=1)
    assert station.audit.count(world.admin) == before
