"""Products: SKU, name, warehouse, stock, the names of the seven sides, model, threshold overrides,
the region recipe (which part of each side's photo is judged).

Rules: everyone may list them (``catalog.view``); admins create, edit, move, restock and delete
them (``product.manage``). SKUs are unique by their normalised key (:mod:`db.names`). Stock never
exceeds the warehouse's free space (checked with the warehouse row locked). A product with
inspections cannot be deleted (history must stay readable). The default side names live in
``core`` (which ``db`` must not import), so callers pass them. The region recipe is the JSON of
``common.regions.RegionRecipe`` (None: automatic for every side), checked against the product's
side names whenever either changes.

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.regions import RecipeInvalid, RegionRecipe
from common.sides import SIDES_PER_CAN
from db.dto import ProductInfo
from db.errors import Conflict, ValidationError
from db.names import MAX_KEY_LEN, name_key
from db.permissions import Actor
from db.schema import Inspection, Model, Product, Warehouse
from db.services._base import Service, check_int, check_thresholds, clean_text
from db.services.warehouses import check_room

_UNSET = object()


def check_side_names(value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError("side_names", f"Give exactly {SIDES_PER_CAN} side names.")
    names = [clean_text(v, "side_names", 64) for v in value]
    if len(names) != SIDES_PER_CAN:
        raise ValidationError("side_names", f"A can has {SIDES_PER_CAN} sides; {len(names)} names "
                                            "were given.")
    if len({n.casefold() for n in names}) != len(names):
        raise ValidationError("side_names", "Each side needs its own name.")
    return names


def check_region_recipe(value: object, side_names: Sequence[str]) -> str | None:
    """The recipe's canonical JSON, or None for "automatic everywhere" (None or "")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValidationError("region_recipe", "The region recipe must be JSON text.")
    try:
        recipe = RegionRecipe.from_json(value)
        recipe.check_sides(list(side_names))
    except RecipeInvalid as exc:
        raise ValidationError("region_recipe", f"The region recipe cannot be used: {exc}.") \
            from None
    return recipe.to_json()


def product_info(p: Product) -> ProductInfo:
    return ProductInfo(id=p.id, sku=p.sku, name=p.name, warehouse_id=p.warehouse_id,
                       warehouse_name=p.warehouse.name, quantity=p.quantity,
                       side_names=tuple(p.side_names), model_id=p.model_id,
                       thresholds=dict(p.thresholds) if p.thresholds else None,
                       region_recipe=p.region_recipe, previous_model_id=p.previous_model_id)


class ProductService(Service):
    def list(self, actor: Actor, warehouse_id: int | None = None) -> list[ProductInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            q = select(Product).join(Product.warehouse).order_by(Product.sku)
            if warehouse_id is not None:
                q = q.where(Product.warehouse_id == warehouse_id)
            return [product_info(p) for p in s.scalars(q)]

    def get(self, actor: Actor, product_id: int) -> ProductInfo:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            return product_info(self._get(s, Product, product_id, "Product"))

    def create(self, actor: Actor, sku: str, name: str, warehouse_id: int, quantity: int,
               side_names: Sequence[str], model_id: int | None = None,
               thresholds: dict | None = None, region_recipe: str | None = None) -> ProductInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "product.manage")
            sku = clean_text(sku, "sku", 64)
            name = clean_text(name, "name", 255)
            quantity = check_int(quantity, "quantity", 0)
            sides = check_side_names(side_names)
            thresholds = check_thresholds(thresholds, optional=True)
            recipe = check_region_recipe(region_recipe, sides)
            key = self._unique_sku(s, sku)
            if model_id is not None:
                self._get(s, Model, model_id, "Model")
            w = self._get(s, Warehouse, warehouse_id, "Warehouse", lock=True)
            check_room(s, w, quantity)
            p = Product(sku=sku, sku_key=key, name=name, warehouse_id=w.id, quantity=quantity,
                        side_names=sides, model_id=model_id, thresholds=thresholds,
                        region_recipe=recipe)
            s.add(p)
            s.flush()
            self._audit(s, me, "product.create", f"product:{p.id}", sku=sku,
                        warehouse_id=w.id, quantity=quantity)
            return product_info(p)

    def update(self, actor: Actor, product_id: int, *, sku: str | object = _UNSET,
               name: str | object = _UNSET, warehouse_id: int | object = _UNSET,
               quantity: int | object = _UNSET, side_names: Sequence[str] | object = _UNSET,
               thresholds: dict | None | object = _UNSET,
               region_recipe: str | None | object = _UNSET) -> ProductInfo:
        """Change the given fields only (moving it: ``warehouse_id``; restocking: ``quantity``).
        ``thresholds=None`` removes the overrides, ``region_recipe=None`` the regions (automatic
        for every side). The model is set through ``models``."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "product.manage")
            p = self._get(s, Product, product_id, "Product", lock=True)
            changes: dict[str, object] = {}
            if sku is not _UNSET:
                sku = clean_text(sku, "sku", 64)
                if sku != p.sku:
                    changes["sku_key"] = self._unique_sku(s, sku, except_id=p.id)
                    changes["sku"] = sku
            if name is not _UNSET:
                changes["name"] = clean_text(name, "name", 255)
            if quantity is not _UNSET:
                changes["quantity"] = check_int(quantity, "quantity", 0)
            if side_names is not _UNSET:
                changes["side_names"] = check_side_names(side_names)
            if thresholds is not _UNSET:
                changes["thresholds"] = check_thresholds(thresholds, optional=True)
            if region_recipe is not _UNSET or "side_names" in changes:
                recipe = p.region_recipe if region_recipe is _UNSET else region_recipe
                checked = check_region_recipe(recipe, cast("list[str]", changes.get("side_names", p.side_names)))
                if checked != p.region_recipe:
                    changes["region_recipe"] = checked
            target = p.warehouse_id if warehouse_id is _UNSET else cast(int, warehouse_id)
            if "quantity" in changes or target != p.warehouse_id:
                w = self._get(s, Warehouse, target, "Warehouse", lock=True)
                check_room(s, w, cast(int, changes.get("quantity", p.quantity)), except_product=p.id)
                if target != p.warehouse_id:
                    changes["warehouse_id"] = target
            for key, value in changes.items():
                setattr(p, key, value)
            if changes:
                s.flush()
                s.refresh(p)
                changes.pop("sku_key", None)
                self._audit(s, me, "product.update", f"product:{p.id}", **changes)
            return product_info(p)

    def delete(self, actor: Actor, product_id: int) -> None:
        with self._db.write() as s:
            me = self._authorize(s, actor, "product.manage")
            p = self._get(s, Product, product_id, "Product", lock=True)
            if s.execute(select(Inspection.id).where(Inspection.product_id == p.id)
                         .limit(1)).first():
                raise Conflict(f"Inspections refer to product {p.sku!r}; delete them first "
                               "(Gallery: choose the product, then Delete…) or keep the "
                               "product for the record.")
            self._audit(s, me, "product.delete", f"product:{p.id}", sku=p.sku)
            s.delete(p)

    @staticmethod
    def _unique_sku(s: Session, sku: str, except_id: int | None = None) -> str:
        """The SKU's key, or Conflict when another product has the same key."""
        key = name_key(sku)
        if len(key) > MAX_KEY_LEN:
            raise ValidationError("sku", "This SKU is too long.")
        q = select(Product.sku).where(Product.sku_key == key)
        if except_id is not None:
            q = q.where(Product.id != except_id)
        taken = s.execute(q).scalar()
        if taken is not None:
            same = "" if taken == sku else f" ({taken!r})"
            raise Conflict(f"A product with SKU {sku!r} exists already{same}.", field="sku")
        return key
