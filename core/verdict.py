"""A can's verdict: up to seven side images through one model in one batch.

Thread rule: runs on the thread that owns ``model`` (see ``core.model.model.Model``); the sides are
decoded and prepared on the model's own small pool (``on_read`` is called there).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from common.regions import RegionRecipe, SideRegion
from core.images import ImageSource
from core.model.model import Model
from core.results import CanResult
from core.sides import DEFAULT_SIDE_NAMES


def inspect_can(model: Model, images: Sequence[ImageSource | None],
                side_names: Sequence[str] = DEFAULT_SIDE_NAMES,
                recipe: RegionRecipe | None = None,
                on_read: Callable[[str], None] | None = None) -> CanResult:
    """Inspect the sides that have an image (``None`` = side not captured).

    ``images[i]`` belongs to ``side_names[i]``; fewer images than names is allowed. The verdict
    covers the inspected sides: reject if any is rejected, review if any needs review.
    ``recipe``: the product's inspection regions (None: the model's own default, the located
    can for a model trained on regions, the whole photo for an older one).
    Raises ``UnreadableImage`` for an image that cannot be read and ``ValueError`` if no image
    is given or there are more images than side names. ``on_read(side_name)``: called as each
    side is decoded, from the model's pool threads (progress; thread-safe and quick).
    """
    if len(images) > len(side_names):
        raise ValueError(f"{len(images)} images but only {len(side_names)} side names")
    started = datetime.now(timezone.utc)
    names, sources, labels = [], [], []
    for name, source in zip(side_names, images):
        if source is None:
            continue
        # Paths name themselves in errors; bytes and arrays are named after their side.
        is_path = not isinstance(source, (bytes, bytearray)) and not hasattr(source, "shape")
        sources.append(source)
        labels.append(None if is_path else f"side {name}")
        names.append(name)
    if not sources:
        raise ValueError("no image to inspect")
    regions: list[SideRegion | None] | None = None
    if recipe is not None:
        regions = [recipe.for_side(name) for name in names]
    # Each side is decoded inside its own task, with its region (Model.decoded_views).
    sides = model.inspect_sources(sources, names, regions, labels,
                                  None if on_read is None else (lambda i: on_read(names[i])))
    return CanResult(sides=sides, model_name=model.spec.name, model_version=model.spec.version,
                     started=started, finished=datetime.now(timezone.utc))
