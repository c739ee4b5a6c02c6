"""The model registry: trained models (a folder each), their metrics and thresholds, and which
model is active for which product (one per product: a column on the product).

Rules: everyone may list models and read a product's active model (``catalog.view``: capture needs
it); admins register, activate, re-threshold and delete them (``model.manage``). The bundled
default model is registered at first start by the station itself (:meth:`register_system`,
audited as "system"). A model that is active for a product cannot be deleted. The registry holds
metadata only; the folder on disk belongs to ``core``.

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.database import from_db_time
from db.dto import ModelInfo, ProductInfo
from db.errors import Conflict, ValidationError
from db.permissions import Actor
from db.schema import Model, Product, User
from db.services._base import SYSTEM, Service, check_thresholds, clean_text
from db.services.products import product_info


def _check_dict(value: object, field: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(field, "Expected a dictionary.")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ValidationError(field, "Only plain JSON values can be stored.") from None
    return dict(value)


def model_info(s: Session, m: Model) -> ModelInfo:
    products = s.scalars(select(Product.id).where(Product.model_id == m.id)
                         .order_by(Product.id)).all()
    return ModelInfo(id=m.id, name=m.name, version=m.version, folder=m.folder, kind=m.kind,
                     backbone=m.backbone, metrics=dict(m.metrics), thresholds=dict(m.thresholds),
                     trained_on=dict(m.trained_on),
                     trained_by=m.trained_by.username if m.trained_by else SYSTEM,
                     created_at=from_db_time(m.created_at), product_ids=tuple(products))


class ModelService(Service):
    def list(self, actor: Actor) -> list[ModelInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            return [model_info(s, m) for m in s.scalars(select(Model).order_by(Model.name,
                                                                               Model.id))]

    def get(self, actor: Actor, model_id: int) -> ModelInfo:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            return model_info(s, self._get(s, Model, model_id, "Model"))

    def register(self, actor: Actor, name: str, folder: str, kind: str, backbone: str,
                 version: str, metrics: dict, thresholds: dict, trained_on: dict) -> ModelInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            return self._register(s, me, name, folder, kind, backbone, version, metrics,
                                  thresholds, trained_on)

    def register_system(self, name: str, folder: str, kind: str, backbone: str, version: str,
                        metrics: dict, thresholds: dict, trained_on: dict) -> ModelInfo:
        """Register the bundled model at start-up (no user signed in yet); idempotent: returns
        the existing entry when this name and version are registered already."""
        with self._db.write() as s:
            existing = s.execute(select(Model).where(Model.name == name,
                                                     Model.version == version)).scalar()
            if existing is not None:
                return model_info(s, existing)
            return self._register(s, None, name, folder, kind, backbone, version, metrics,
                                  thresholds, trained_on)

    def activate_for_product(self, actor: Actor, model_id: int, product_id: int) -> ModelInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model")
            p = self._get(s, Product, product_id, "Product", lock=True)
            old = p.model_id
            p.model_id = m.id
            s.flush()
            self._audit(s, me, "model.activate", f"product:{p.id}", model_id=m.id,
                        previous_model_id=old, sku=p.sku)
            return model_info(s, m)

    def active_for_product(self, actor: Actor, product_id: int) -> ModelInfo | None:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            p = self._get(s, Product, product_id, "Product")
            if p.model_id is None:
                return None
            return model_info(s, self._get(s, Model, p.model_id, "Model"))

    def for_inspection(self, actor: Actor,
                       product_id: int) -> tuple[ProductInfo, ModelInfo | None]:
        """The product (with its threshold override) and its active model, read in one
        transaction: what the capture panel asks before each can."""
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            p = self._get(s, Product, product_id, "Product")
            model = None if p.model_id is None else model_info(
                s, self._get(s, Model, p.model_id, "Model"))
            return product_info(p), model

    def set_thresholds(self, actor: Actor, model_id: int, thresholds: dict) -> ModelInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model", lock=True)
            new = check_thresholds(thresholds)
            old = dict(m.thresholds)
            m.thresholds = new
            self._audit(s, me, "model.set_thresholds", f"model:{m.id}", old=old, new=new)
            return model_info(s, m)

    def delete(self, actor: Actor, model_id: int) -> None:
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model", lock=True)
            used = s.scalars(select(Product.sku).where(Product.model_id == m.id)).all()
            if used:
                raise Conflict(f"Model {m.name} {m.version} is active for {', '.join(used)}; "
                               "activate another model for them first.")
            self._audit(s, me, "model.delete", f"model:{m.id}", name=m.name, version=m.version)
            s.delete(m)

    def _register(self, s: Session, me: User | None, name: str, folder: str, kind: str,
                  backbone: str, version: str, metrics: dict, thresholds: dict,
                  trained_on: dict) -> ModelInfo:
        name = clean_text(name, "name", 128)
        version = clean_text(version, "version", 64)
        folder = clean_text(folder, "folder", 1024)
        kind = clean_text(kind, "kind", 32)
        backbone = clean_text(backbone, "backbone", 64)
        metrics = _check_dict(metrics, "metrics")
        trained_on = _check_dict(trained_on, "trained_on")
        thresholds = check_thresholds(thresholds)
        if s.execute(select(Model.id).where(Model.name == name, Model.version == version)).first():
            raise Conflict(f"Model {name} version {version} is registered already.",
                           field="version")
        m = Model(name=name, version=version, folder=folder, kind=kind, backbone=backbone,
                  metrics=metrics, thresholds=thresholds, trained_on=trained_on,
                  trained_by_id=me.id if me else None, created_at=self._db.now_naive())
        s.add(m)
        s.flush()
        self._audit(s, me, "model.register", f"model:{m.id}", name=name, version=version)
        return model_info(s, m)
