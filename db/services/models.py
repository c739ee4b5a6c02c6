"""The model registry: trained models (a folder each), their metrics and thresholds, which model is
active for which product (one per product: a column on the product), the model that was active
before it (one click back: :meth:`ModelService.rollback`), and stored evaluations.

Rules: everyone may list models, read a product's active model and a model's evaluations
(``catalog.view``: capture needs it); admins register, activate, roll back, re-threshold,
evaluate and delete them (``model.manage``). The bundled default model is registered at first
start by the station itself (:meth:`register_system`, audited as "system"). A model that is active
for a product cannot be deleted (one that is only a product's previous model can: the rollback
is then gone). Thresholds follow the one rule (:mod:`common.thresholds`). The registry holds
metadata only; the folder on disk belongs to ``core``.

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.database import Database, from_db_time
from db.dto import EvaluationInfo, ModelInfo, ProductInfo
from db.errors import Conflict, ValidationError
from db.permissions import Actor
from db.schema import Model, ModelEvaluation, Product, User
from db.services._base import SYSTEM, Service, check_int, check_thresholds, clean_text
from db.services.products import product_info
from db.site_models import folder_hashes

MAX_EVALUATION_CHARS = 2_000_000   # the stored summary's JSON; a summary, not the raw scores


def _check_dict(value: object, field: str, max_chars: int | None = None) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(field, "Expected a dictionary.")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise ValidationError(field, "Only plain JSON values (finite numbers, text, lists, "
                                     "dictionaries) can be stored.") from None
    if max_chars is not None and len(text) > max_chars:
        raise ValidationError(field, "This is too large to store.")
    return json.loads(text)


def evaluation_info(e: ModelEvaluation) -> EvaluationInfo:
    return EvaluationInfo(id=e.id, model_id=e.model_id, created_at=from_db_time(e.created_at),
                          user_id=e.user_id, username=e.user.username if e.user else SYSTEM,
                          data=json.loads(json.dumps(e.data)), n_images=e.n_images,
                          n_overlap_training=e.n_overlap_training, source=e.source)


def model_info(s: Session, m: Model, locate: Callable[[Model], str] | None = None) -> ModelInfo:
    """``locate`` maps a model to its folder on this station (db.site_models.SiteModels)."""
    products = s.scalars(select(Product.id).where(Product.model_id == m.id)
                         .order_by(Product.id)).all()
    return ModelInfo(id=m.id, name=m.name, version=m.version,
                     folder=locate(m) if locate is not None else m.folder, kind=m.kind,
                     backbone=m.backbone, metrics=dict(m.metrics), thresholds=dict(m.thresholds),
                     trained_on=dict(m.trained_on),
                     trained_by=m.trained_by.username if m.trained_by else SYSTEM,
                     created_at=from_db_time(m.created_at), product_ids=tuple(products),
                     weights_sha256=m.weights_sha256, package_sha256=m.package_sha256,
                     published=m.published_at is not None)


class ModelService(Service):
    def __init__(self, db: Database, locate: Callable[[Model], str] | None = None) -> None:
        super().__init__(db)
        self._locate = locate

    def _info(self, s: Session, m: Model) -> ModelInfo:
        return model_info(s, m, self._locate)

    def list(self, actor: Actor) -> list[ModelInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            return [self._info(s, m) for m in s.scalars(select(Model).order_by(Model.name,
                                                                               Model.id))]

    def get(self, actor: Actor, model_id: int) -> ModelInfo:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            return self._info(s, self._get(s, Model, model_id, "Model"))

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
                return self._info(s, existing)
            return self._register(s, None, name, folder, kind, backbone, version, metrics,
                                  thresholds, trained_on)

    def activate(self, actor: Actor, model_id: int, product_ids: Sequence[int]) -> None:
        """Make ``model_id`` the active model of every product in ``product_ids``, in ONE
        transaction (all or none). Each product keeps the model it had as its previous model
        (for :meth:`rollback`); a product already on this model is left as it is."""
        if isinstance(product_ids, (str, bytes)) or not isinstance(product_ids, Sequence) \
                or not product_ids:
            raise ValidationError("product_ids", "Choose at least one product.")
        ids = [check_int(i, "product_ids", 1) for i in product_ids]
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model", lock=True)
            for product_id in sorted(set(ids)):   # one lock order, so two admins cannot deadlock
                p = self._get(s, Product, product_id, "Product", lock=True)
                if p.model_id == m.id:
                    continue
                old = p.model_id
                if old is not None:
                    p.previous_model_id = old
                p.model_id = m.id
                self._audit(s, me, "model.activate", f"product:{p.id}", model_id=m.id,
                            previous_model_id=old, sku=p.sku)

    def activate_for_product(self, actor: Actor, model_id: int, product_id: int) -> ModelInfo:
        """:meth:`activate` for one product; returns the model's info."""
        self.activate(actor, model_id, [product_id])
        with self._db.read() as s:
            return self._info(s, self._get(s, Model, model_id, "Model"))

    def rollback(self, actor: Actor, product_id: int) -> ProductInfo:
        """Swap a product's active model and its previous model (a second rollback undoes the
        first). Conflict when the product has no previous model."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            p = self._get(s, Product, product_id, "Product", lock=True)
            if p.previous_model_id is None:
                raise Conflict(f"Product {p.sku!r} has no previous model to go back to.")
            back = self._get(s, Model, p.previous_model_id, "Model", lock=True)
            old = p.model_id
            p.model_id, p.previous_model_id = back.id, old
            self._audit(s, me, "model.rollback", f"product:{p.id}", model_id=back.id,
                        previous_model_id=old, sku=p.sku)
            s.flush()
            return product_info(p)

    def record_evaluation(self, actor: Actor, model_id: int, data: dict, n_images: int,
                          n_overlap_training: int, source: str) -> EvaluationInfo:
        """Store an evaluation of a model: the engine's summary (plain JSON values), how many
        images it rests on and how many of them were in the model's training set."""
        data = _check_dict(data, "data", MAX_EVALUATION_CHARS)
        n_images = check_int(n_images, "n_images", 0)
        n_overlap_training = check_int(n_overlap_training, "n_overlap_training", 0)
        if n_overlap_training > n_images:
            raise ValidationError("n_overlap_training", "More overlapping images than images.")
        source = clean_text(source, "source", 4096, required=False)
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model")
            e = ModelEvaluation(model_id=m.id, created_at=self._db.now_naive(), user_id=me.id,
                                data=data, n_images=n_images,
                                n_overlap_training=n_overlap_training, source=source)
            s.add(e)
            s.flush()
            self._audit(s, me, "model.evaluate", f"model:{m.id}", evaluation_id=e.id,
                        n_images=n_images, n_overlap_training=n_overlap_training)
            e.user = me
            return evaluation_info(e)

    def evaluations(self, actor: Actor, model_id: int) -> builtins.list[EvaluationInfo]:
        """The stored evaluations of a model, newest first."""
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            self._get(s, Model, model_id, "Model")
            q = (select(ModelEvaluation).where(ModelEvaluation.model_id == model_id)
                 .order_by(ModelEvaluation.created_at.desc(), ModelEvaluation.id.desc()))
            return [evaluation_info(e) for e in s.scalars(q)]

    def active_for_product(self, actor: Actor, product_id: int) -> ModelInfo | None:
        with self._db.read() as s:
            self._authorize(s, actor, "catalog.view")
            p = self._get(s, Product, product_id, "Product")
            if p.model_id is None:
                return None
            return self._info(s, self._get(s, Model, p.model_id, "Model"))

    def mark_published(self, actor: Actor, model_id: int, package_sha256: str,
                       weights_sha256: str, shared: bool) -> ModelInfo:
        """Record a model's checksums and, when its files are in the shared store now
        (``shared``), that every station can download it (SiteModels.publish calls this)."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model", lock=True)
            m.package_sha256, m.weights_sha256 = package_sha256, weights_sha256
            if shared:
                m.published_at = self._db.now_naive()
                self._audit(s, me, "model.publish", f"model:{m.id}", name=m.name,
                            version=m.version, package_sha256=package_sha256)
            s.flush()
            return self._info(s, m)

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
            return self._info(s, m)

    def delete(self, actor: Actor, model_id: int) -> None:
        with self._db.write() as s:
            me = self._authorize(s, actor, "model.manage")
            m = self._get(s, Model, model_id, "Model", lock=True)
            used = s.scalars(select(Product.sku).where(Product.model_id == m.id)).all()
            if used:
                raise Conflict(f"Model {m.name} {m.version} is active for {', '.join(used)}; "
                               "activate another model for them first.")
            self._audit(s, me, "model.delete", f"model:{m.id}", name=m.name, version=m.version)
            # The foreign keys would do both; said here so it does not hang on them.
            s.execute(update(Product).where(Product.previous_model_id == m.id)
                      .values(previous_model_id=None))
            s.execute(delete(ModelEvaluation).where(ModelEvaluation.model_id == m.id))
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
        found = folder_hashes(folder)
        m = Model(name=name, version=version, folder=folder, kind=kind, backbone=backbone,
                  metrics=metrics, thresholds=thresholds, trained_on=trained_on,
                  trained_by_id=me.id if me else None, created_at=self._db.now_naive(),
                  package_sha256=found[0] if found else None,
                  weights_sha256=found[1] if found else None)
        s.add(m)
        s.flush()
        self._audit(s, me, "model.register", f"model:{m.id}", name=name, version=version)
        return self._info(s, m)
