"""Warehouses: name, location, capacity in cans, notes; free space = capacity - cans stored there.

Rules: everyone may list them (``catalog.view``); admins create, edit and delete them
(``warehouse.manage``). Names are unique by their normalised key (:mod:`db.names`: "Main store"
and "main  store" are one name). The capacity cannot drop below what is stored; a warehouse is deleted only
when no product is kept there and no inspection refers to it (history must stay readable).

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.dto import WarehouseInfo
from db.errors import Conflict, ValidationError
from db.names import MAX_KEY_LEN, name_key
from db.permissions import Actor
from db.schema import Inspection, Product, Warehouse
from db.services._base import Service, check_int, clean_text

_UNSET = object()


def stored_in(s: Session, warehouse_id: int, except_product: int | None = None) -> int:
    q = select(func.coalesce(func.sum(Product.quantity), 0)).where(
        Product.warehouse_id == warehouse_id)
    if except_product is not None:
        q = q.where(Product.id != except_product)
    return int(s.execute(q).scalar_one())


def check_room(s: Session, warehouse: Warehouse, quantity: int,
               except_product: int | None = None) -> None:
    """Refuse to put ``quantity`` more cans into ``warehouse`` than it has room for.

    The caller must hold the warehouse row locked (``_get(..., lock=True)``) so two stations
    cannot both take the last free space.
    """
    free = warehouse.capacity - stored_in(s, warehouse.id, except_product)
    if quantity > free:
        raise ValidationError("quantity", f"Warehouse {warehouse.name!r} has room for {free} more "
                                          f"cans, not {quantity}.")


def warehouse_info(s: Session, w: Warehouse) -> WarehouseInfo:
    stored = stored_in(s, w.id)
    return WarehouseInfo(id=w.id, name=w.name, location=w.location, capacity=w.capacity,
                         notes=w.notes, stored=stored, free=w.capacity - stored)


class WarehouseService(Service):
    def list(self, actor: Actor) -> list[WarehouseInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            sums = dict(s.execute(select(Product.warehouse_id, func.sum(Product.quantity))
                                  .group_by(Product.warehouse_id)).all())
            out = []
            for w in s.scalars(select(Warehouse).order_by(Warehouse.name)):
                stored = int(sums.get(w.id) or 0)
                out.append(WarehouseInfo(w.id, w.name, w.location, w.capacity, w.notes, stored,
                                         w.capacity - stored))
            return out

    def get(self, actor: Actor, warehouse_id: int) -> WarehouseInfo:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            return warehouse_info(s, self._get(s, Warehouse, warehouse_id, "Warehouse"))

    def create(self, actor: Actor, name: str, capacity: int, location: str = "",
               notes: str = "") -> WarehouseInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "warehouse.manage")
            name = clean_text(name, "name", 128)
            capacity = check_int(capacity, "capacity", 0)
            location = clean_text(location, "location", 255, required=False)
            notes = clean_text(notes, "notes", 10_000, required=False)
            key = self._unique_name(s, name)
            w = Warehouse(name=name, name_key=key, location=location, capacity=capacity,
                          notes=notes)
            s.add(w)
            s.flush()
            self._audit(s, me, "warehouse.create", f"warehouse:{w.id}", name=name,
                        capacity=capacity)
            return warehouse_info(s, w)

    def update(self, actor: Actor, warehouse_id: int, *, name: str | object = _UNSET,
               capacity: int | object = _UNSET, location: str | object = _UNSET,
               notes: str | object = _UNSET) -> WarehouseInfo:
        """Change the given fields only."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "warehouse.manage")
            w = self._get(s, Warehouse, warehouse_id, "Warehouse", lock=True)
            changes: dict[str, object] = {}
            if name is not _UNSET:
                name = clean_text(name, "name", 128)
                if name != w.name:
                    changes["name_key"] = self._unique_name(s, name, except_id=w.id)
                    changes["name"] = name
            if capacity is not _UNSET:
                capacity = check_int(capacity, "capacity", 0)
                stored = stored_in(s, w.id)
                if capacity < stored:
                    raise ValidationError("capacity", f"{stored} cans are stored here; the "
                                                      "capacity cannot be less.")
                changes["capacity"] = capacity
            if location is not _UNSET:
                changes["location"] = clean_text(location, "location", 255, required=False)
            if notes is not _UNSET:
                changes["notes"] = clean_text(notes, "notes", 10_000, required=False)
            for key, value in changes.items():
                setattr(w, key, value)
            if changes:
                changes.pop("name_key", None)
                self._audit(s, me, "warehouse.update", f"warehouse:{w.id}", **changes)
            return warehouse_info(s, w)

    def delete(self, actor: Actor, warehouse_id: int) -> None:
        with self._db.write() as s:
            me = self._authorize(s, actor, "warehouse.manage")
            w = self._get(s, Warehouse, warehouse_id, "Warehouse", lock=True)
            if s.execute(select(Product.id).where(Product.warehouse_id == w.id).limit(1)).first():
                raise Conflict(f"Warehouse {w.name!r} still holds products; move or delete them "
                               "first.")
            if s.execute(select(Inspection.id).where(Inspection.warehouse_id == w.id)
                         .limit(1)).first():
                raise Conflict(f"Inspections refer to warehouse {w.name!r}; it stays for the "
                               "record.")
            self._audit(s, me, "warehouse.delete", f"warehouse:{w.id}", name=w.name)
            s.delete(w)

    @staticmethod
    def _unique_name(s: Session, name: str, except_id: int | None = None) -> str:
        """The name's key, or Conflict when another warehouse has the same key."""
        key = name_key(name)
        if len(key) > MAX_KEY_LEN:
            raise ValidationError("name", "This name is too long.")
        q = select(Warehouse.name).where(Warehouse.name_key == key)
        if except_id is not None:
            q = q.where(Warehouse.id != except_id)
        taken = s.execute(q).scalar()
        if taken is not None:
            same = "" if taken == name else f" ({taken!r})"
            raise Conflict(f"A warehouse named {name!r} exists already{same}.", field="name")
        return key
