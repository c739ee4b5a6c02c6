"""The backdrop check: does a model judge the can, or what stands behind it?

Every good image is inspected as it is, then again with everything outside its can repainted
with other backdrops (flat colours, a gradient, a noise texture, and photos of walls: other
images of the same set with their own can painted out), and the verdicts are compared. A model
that judges the can changes none. The can is the can locator's outline (``core.regions``); the
repaint starts at it with a one-pixel soft seam, so what the model's margin around the can shows
is new backdrop, and the locator must find the can again in front of it (both are tested);
images whose can is not found are left out (and counted).

A long job like evaluation: takes a ``Progress``, runs on the calling thread, which must be the
model's only user while it runs.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.images.augment import paste
from core.progress import Progress
from core.regions.locator import locate_can

if TYPE_CHECKING:
    from core.model.model import Model
    from core.training import LabeledImage

FLAT = {"grey": (128, 128, 128), "black": (15, 15, 15), "white": (235, 235, 235),
        "orange": (235, 140, 30), "yellow-green": (190, 210, 60), "brown": (110, 70, 40)}
KINDS = tuple(FLAT) + ("gradient", "texture", "wall photo 1", "wall photo 2")
WORK = 160   # walls are painted out at this size (their detail is not what is tested)


@dataclass
class BackdropReport:
    images: int = 0                 # good images checked (can found)
    skipped: int = 0                # good images whose can was not found
    repaints: int = 0
    changed: int = 0                # repaints whose outcome differs from the original's
    max_score_shift: float = 0.0
    total_score_shift: float = 0.0
    per_kind: dict = field(default_factory=dict)      # kind -> changed count
    changes: list = field(default_factory=list)       # (name, kind, before, after, score before, after)

    def to_dict(self) -> dict:
        return {"images": self.images, "skipped_no_can": self.skipped, "repaints": self.repaints,
                "verdicts_changed": self.changed, "max_score_shift": round(self.max_score_shift, 4),
                "mean_score_shift": round(self.mean_score_shift, 4),
                "changed_per_backdrop": dict(self.per_kind),
                "changes": [dict(zip(("image", "backdrop", "before", "after", "score_before", "score_after"), c))
                            for c in self.changes]}

    @property
    def mean_score_shift(self) -> float:
        return self.total_score_shift / self.repaints if self.repaints else 0.0

    def summary(self) -> str:
        lines = [f"Backdrop check: {self.images} good images x {len(KINDS)} backdrops = {self.repaints} "
                 f"repaints; verdicts changed: {self.changed}; score shift mean "
                 f"{self.mean_score_shift:.3f}, largest {self.max_score_shift:.3f}"
                 + (f"; {self.skipped} image(s) without a found can left out" if self.skipped else "")]
        lines += [f"  {kind}: {n} changed" for kind, n in self.per_kind.items() if n]
        lines += [f"  {name} on {kind}: {a} -> {b} (score {sa:.3f} -> {sb:.3f})"
                  for name, kind, a, b, sa, sb in self.changes[:20]]
        return "\n".join(lines)


def backdrops_for(image: np.ndarray, index: int, walls: Sequence[np.ndarray],
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The repaint of each kind, at the image's size."""
    h, w = image.shape[:2]
    out = {kind: np.full((h, w, 3), colour, np.uint8) for kind, colour in FLAT.items()}
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    out["gradient"] = np.broadcast_to(a * (1 - t) + b * t, (h, w, 3)).astype(np.uint8)
    coarse = rng.normal(0, 1, (12, 12, 3)).astype(np.float32)
    texture = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * 40 + rng.uniform(60, 180, 3)
    out["texture"] = np.clip(texture + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)
    others = [i for i in range(len(walls)) if i != index] or [index]
    picks = rng.choice(others, size=2, replace=len(others) < 2)
    for kind, pick in zip(("wall photo 1", "wall photo 2"), picks):
        out[kind] = cv2.resize(walls[int(pick)], (w, h), interpolation=cv2.INTER_LINEAR)  # type: ignore[assignment]  # cv2 stubs
    return out


def wall_of(image: np.ndarray, locator: Mapping[str, bool] | None = None) -> np.ndarray:
    """A small copy of ``image`` with its can painted out (a photo of the wall behind it)."""
    scale = WORK / max(image.shape[:2])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    region = _region_mask(small, locator)
    if region is None:
        return small
    region = cv2.dilate(region, np.ones((5, 5), np.uint8))
    return np.asarray(cv2.inpaint(small, region, 5, cv2.INPAINT_TELEA))


def _region_mask(image: np.ndarray, locator: Mapping[str, bool] | None = None) -> np.ndarray | None:
    """The can (the locator's outline) as a uint8 mask; None: no can found.

    The repaint starts at the can's own edge, as if the can stood in front of another backdrop,
    so the locator meets the can's edges, not an edge the repaint made."""
    location = locate_can(image, **(locator or {}))
    if not location.found or location.outline is None:
        return None
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [location.outline.reshape(-1, 1, 2)], 1)
    return mask


def repainted(image: np.ndarray, index: int, walls: Sequence[np.ndarray],
              rng: np.random.Generator, locator: Mapping[str, bool] | None = None
              ) -> dict[str, np.ndarray] | None:
    """``image`` with everything outside its can (the locator's outline on ``image``, a one-pixel
    soft seam) repainted with each backdrop of ``backdrops_for``; None when no can is found."""
    region = _region_mask(image, locator)
    if region is None:
        return None
    # the can pasted on each backdrop with a one-pixel soft seam, as training pastes cans
    return {kind: paste(image, region, bg) for kind, bg in backdrops_for(image, index, walls, rng).items()}


def backdrop_check(model: Model, samples: Sequence[LabeledImage], progress: Progress | None = None,
                   seed: int = 0) -> BackdropReport:
    """Repaint the backdrop of every good sample (label 0) and count changed verdicts."""
    from core.images import load_image

    progress = progress or Progress()
    good = [s for s in samples if int(s.label) == 0]
    if not good:
        raise ValueError("the backdrop check needs good images")
    names = [Path(s.source).name if isinstance(s.source, (str, Path)) else f"image {i}"
             for i, s in enumerate(good)]
    locator = locator_of(model)
    # Two passes, one photo in memory at a time (a plant's folder may hold thousands of large
    # photos): first every photo's small wall, then each photo again, repainted and judged.
    walls = []
    for i, s in enumerate(good):
        progress.check()
        walls.append(wall_of(load_image(s.source), locator))
        progress.report(i + 1, len(good), f"backdrop check: walls {i + 1} of {len(good)}")
    report = BackdropReport(per_kind={k: 0 for k in KINDS})
    rng = np.random.default_rng(seed)
    for i, (sample, name) in enumerate(zip(good, names)):
        progress.check()
        _judge(model, load_image(sample.source), i, name, walls, rng, report)
        progress.report(i + 1, len(good), f"backdrop check {i + 1} of {len(good)}")
    return report


def locator_of(model: Model) -> dict[str, bool]:
    """The locator's options ``model`` finds its cans with (its ``RegionSettings``): the repaints
    start at the outline the model itself finds on the photo."""
    return model.regions.locator() if model.regions is not None else {}


def _judge(model: Model, image: np.ndarray, index: int, name: str, walls: Sequence[np.ndarray],
           rng: np.random.Generator, report: BackdropReport) -> None:
    """One good photo and its repaints judged, counted into ``report`` (its own function, so the
    photo and its repaints are let go before the next one is read)."""
    repaints = repainted(image, index, walls, rng, locator_of(model))
    if repaints is None:
        report.skipped += 1
        return
    batch = [image] + list(repaints.values())
    results = []
    for start in range(0, len(batch), 7):
        results += model.inspect_sides(batch[start:start + 7], [name] * len(batch[start:start + 7]))
    before = results[0]
    report.images += 1
    for kind, res in zip(repaints, results[1:]):
        report.repaints += 1
        shift = abs(res.score - before.score)
        report.max_score_shift = max(report.max_score_shift, shift)
        report.total_score_shift += shift
        if res.outcome != before.outcome:
            report.changed += 1
            report.per_kind[kind] += 1
            report.changes.append((name, kind, before.outcome.value, res.outcome.value,
                                   before.score, res.score))
