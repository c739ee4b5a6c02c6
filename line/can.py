"""One can on its way through the line: the sides captured so far, then the job the inspector
takes, then the report the PLC reads.

Threading rule: a ``CanInProgress`` belongs to the capture thread until ``finish`` hands a frozen
``CanJob`` to the inspector; after that nobody changes it.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from app.regions import RecipeUnusable, product_recipe
from common.regions import RegionRecipe
from core.results import CanResult, Outcome
from line.config import LineConfig, Step
from line.errors import RequestRefused
from line.events import MISSING, CanReport

PENDING = "pending"   # a side's outcome in a report published at the deadline, before the verdict


@dataclass(frozen=True)
class Selection:
    """The product the PLC selected and what inspecting it takes."""

    sku: str
    product_id: int
    side_names: tuple[str, ...]
    steps: tuple[Step, ...]
    model_folder: str
    thresholds: dict | None
    region_recipe: RegionRecipe | None = None   # the product's regions; None: the model's default

    @classmethod
    def resolve(cls, station: Any, actor: Any, config: LineConfig, sku: str
                ) -> tuple[Selection, Any]:
        """The product of ``sku`` (exact, else ignoring case), its steps and its active model;
        ``RequestRefused``/``LineConfigInvalid`` say why not. Returns (selection, ModelInfo)."""
        products = station.products.list(actor)
        product = next((p for p in products if p.sku == sku), None) or next(
            (p for p in products if p.sku.casefold() == sku.casefold()), None)
        if product is None:
            raise RequestRefused("unknown-product", f"There is no product with the SKU {sku!r}; "
                                 "an admin adds it under Products.")
        steps = config.recipe(product.sku).steps_for(product.side_names, product.sku)
        model = station.models.active_for_product(actor, product.id)
        if model is None:
            raise RequestRefused("no-model", f"Product {product.sku} has no active model; an "
                                 "admin activates one under Models.")
        thresholds = product.thresholds or model.thresholds or None
        try:
            recipe = product_recipe(product)
        except RecipeUnusable as exc:
            raise RequestRefused("config", str(exc)) from None
        return cls(sku=product.sku, product_id=product.id, side_names=tuple(product.side_names),
                   steps=steps, model_folder=model.folder, thresholds=thresholds,
                   region_recipe=recipe), model


@dataclass
class CanInProgress:
    number: int
    selection: Selection
    can_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    images: dict[str, np.ndarray] = field(default_factory=dict)
    steps_done: int = 0
    last_trigger: float = 0.0            # monotonic arrival of the latest trigger

    @property
    def complete(self) -> bool:
        return self.steps_done >= len(self.selection.steps)

    def finish(self, reason: str, deadline_ms: int, clock_from: float) -> CanJob:
        """The job for the inspector; the deadline counts from ``clock_from`` (monotonic): the
        last trigger of a complete can, the moment a can was cut short."""
        return CanJob(can_id=self.can_id, number=self.number, selection=self.selection,
                      started=self.started, images=dict(self.images), reason=reason,
                      clock_from=clock_from, deadline_ms=deadline_ms)


@dataclass(frozen=True)
class CanJob:
    can_id: str
    number: int
    selection: Selection
    started: datetime
    images: dict[str, np.ndarray]
    reason: str                          # non-empty: the can is incomplete or was cut short
    clock_from: float                    # monotonic; trigger-to-verdict and deadline count from it
    deadline_ms: int

    def image_list(self) -> list[np.ndarray | None]:
        return [self.images.get(name) for name in self.selection.side_names]


def make_report(job: CanJob, verdict: Outcome, result: CanResult | None, reason: str,
                elapsed_ms: float, deadline_missed: bool = False,
                inspect_ms: float = 0.0) -> CanReport:
    """The published form of a can; sides without a result are "missing" (or "pending" when the
    deadline published the can before its verdict)."""
    by_side = {s.side: s for s in result.sides} if result is not None else {}
    outcomes, scores = [], []
    for name in job.selection.side_names:
        side = by_side.get(name)
        if side is not None:
            outcomes.append(side.outcome.value)
            scores.append(float(side.score))
        else:
            outcomes.append(PENDING if deadline_missed and name in job.images else MISSING)
            scores.append(math.nan)
    return CanReport(can_id=job.can_id, number=job.number, sku=job.selection.sku, verdict=verdict,
                     side_names=job.selection.side_names, side_outcomes=tuple(outcomes),
                     side_scores=tuple(scores), reason=reason,
                     published=datetime.now(timezone.utc), trigger_to_verdict_ms=elapsed_ms,
                     deadline_missed=deadline_missed, inspect_ms=inspect_ms)


def worst(*outcomes: Outcome) -> Outcome:
    return Outcome.worst(outcomes)


def describe_missing(side_names: Sequence[str], images: dict[str, np.ndarray]) -> str:
    missing = [n for n in side_names if n not in images]
    return ", ".join(missing)
