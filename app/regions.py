"""A product's inspection regions as the GUI and the line use them (issue 8).

* ``product_recipe(product)``: the ``common.regions.RegionRecipe`` a can of this product is
  inspected with, from ``ProductInfo.region_recipe`` (JSON text). ``None`` when the product has
  none: ``core.verdict.inspect_can`` then uses the model's own default (the located can for a
  model trained on regions, the whole photo for an older one), so an old model is not suddenly
  judged on crops it never saw.
* ``load_sample(path)``: the admin's sample photo for the Regions editor (``core.images`` rules:
  regular files, bounded size, EXIF rotation), and ``preview(image, region)``: the outline that
  would be judged on it, the locator's in automatic mode.

Threading: pure functions (numpy/OpenCV); any thread. ``load_sample`` reads a file and
``preview`` runs the can locator (milliseconds to tens of milliseconds): call them off the GUI
thread.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import PersonFacingError
from common.regions import RecipeInvalid, RegionRecipe, SideRegion
from core.errors import StationError
from core.images import load_image
from core.images.shrink import shrink

SAMPLE_SIDE = 1600     # the editor never needs more pixels than this
ASK_PHOTO = "Load a sample photo of this side (Load photo…) to see what is judged."


class RecipeUnusable(StationError):
    """A product's stored region recipe cannot be read (it was checked when saved, so this means
    the database was edited by hand or by a newer program)."""


def product_recipe(product: Any) -> RegionRecipe | None:
    """The recipe of a ``db.dto.ProductInfo`` (None: no recipe, the model's default)."""
    text = getattr(product, "region_recipe", None)
    if text is None or not str(text).strip():
        return None
    try:
        return RegionRecipe.from_json(text)
    except RecipeInvalid as exc:
        raise RecipeUnusable(f"The inspection regions of product {getattr(product, 'sku', '?')} "
                             f"cannot be used ({exc}); an admin sets them again under Products, "
                             "Regions…") from None


@dataclass(frozen=True)
class Preview:
    """What would be judged on a sample photo: ``outline`` (N x 2 int32, image pixels; None for
    the whole photo or when no can was found) and, when the locator found none, its ``reason``."""

    outline: np.ndarray | None
    reason: str = ""


def load_sample(path: str | Path) -> np.ndarray:
    """A sample photo, RGB uint8, at most ``SAMPLE_SIDE`` pixels on its longer side.

    Fractions drawn on the reduced copy are the same fractions on the full photo. Raises
    ``core.errors.UnreadableImage`` (a message for a person) for a file that is no image.
    """
    image = load_image(Path(path))
    small, _ = shrink(image, SAMPLE_SIDE)
    return np.ascontiguousarray(small)


def model_locator(station: Any, actor: Any, model_id: int | None) -> dict[str, bool]:
    """The can locator's options the model ``model_id`` finds its cans with (its ``model.json``
    records them: the third and the high-pass readings); none for no model or one whose folder
    cannot be read (the preview is a guide: the inspection itself reads the model)."""
    from core.model.spec import read_spec
    from core.regions.settings import RegionSettings

    if model_id is None:
        return {}
    try:
        settings = RegionSettings.from_dict(read_spec(Path(station.models.get(actor, model_id).folder)).preprocessing)
    except (PersonFacingError, OSError, ValueError):   # no such model, no right, a broken folder
        return {}
    return settings.locator() if settings is not None else {}


def preview(image: np.ndarray, region: SideRegion, locator: Mapping[str, bool] | None = None) -> Preview:
    """The outline judged on ``image`` with ``region`` (see ``core.regions.apply``); in automatic
    mode the locator as the product's model runs it (``locator``: ``model_locator``)."""
    from core.regions.apply import fixed_outline
    from core.regions.locator import locate_can

    h, w = image.shape[:2]
    if region.mode == "whole":
        return Preview(None)
    if region.mode == "fixed":
        return Preview(fixed_outline(region, w, h))
    found = locate_can(image, **(locator or {}))
    return Preview(found.outline if found.found else None, "" if found.found else found.reason)


def recipe_text(regions: Mapping[str, SideRegion]) -> str | None:
    """What the Products service stores for these per-side choices (``region_recipe``).

    Every side automatic: None (no recipe: the model's own way, see ``product_recipe``); every
    side the same: that as the default; else automatic by default and the other sides listed.
    """
    values = list(regions.values())
    if all(r.mode == "auto" for r in values):
        return None
    if all(r == values[0] for r in values):
        return RegionRecipe(values[0]).to_json()
    return RegionRecipe(SideRegion(), {k: r for k, r in regions.items() if r.mode != "auto"}).to_json()


def explain(region: SideRegion, has_sample: bool, found: Preview | None) -> str:
    """What the Regions editor says under its choices (``found``: the locator's answer on the
    sample in automatic mode, None while it is not known)."""
    if region.mode == "whole":
        return "The whole photo is judged, backdrop included."
    if region.mode == "fixed":
        return "Only the inside of the drawn region is judged." + ("" if has_sample else " " + ASK_PHOTO)
    if found is None:
        return "The can is found in every photo; " + ("finding it on the sample…" if has_sample
                                                       else ASK_PHOTO)
    if found.outline is None:
        return f"On this sample: {found.reason}. Such a photo goes to review."
    return "The dashed outline is what would be judged on this sample."
