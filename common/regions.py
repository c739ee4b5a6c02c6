"""A product's inspection regions: which part of each side's photo the detectors judge.

Per side, one of three modes:

* ``auto``  - the can locator finds the can in every photo (no set-up; the default);
* ``fixed`` - a rectangle or ellipse an admin drew on a sample photo, for a camera that does not
  move; stored as fractions of the photo's width and height, so it survives a change of resolution;
* ``whole`` - the whole photo (what the station did before regions existed).

The recipe is stored with the product in the database as JSON text and read by the engine at
inspection, so ``db`` and ``core`` share this one definition (``db`` validates what it stores,
``core`` applies it). Pure Python, immutable values; any thread.

JSON form (every key optional; an empty object means "auto for every side")::

    {"default": {"mode": "auto"},
     "sides": {"Lid": {"mode": "fixed", "shape": "ellipse", "box": [0.2, 0.1, 0.8, 0.9]}}}
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODES = ("auto", "fixed", "whole")
SHAPES = ("rect", "ellipse")
MODE_LABELS = {"auto": "Automatic (find the can)", "fixed": "Fixed region (drawn)",
               "whole": "Whole photo"}
MIN_FRACTION = 0.02   # a fixed region narrower or lower than 2 % of the photo is a slip of the mouse
MAX_JSON_CHARS = 20_000


class RecipeInvalid(ValueError):
    """The recipe cannot be used; ``str(exc)`` says why in words fit for an admin."""


@dataclass(frozen=True)
class SideRegion:
    mode: str = "auto"
    shape: str = "rect"
    box: tuple[float, float, float, float] | None = None   # x0, y0, x1, y1 as fractions (fixed only)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise RecipeInvalid(f"unknown region mode {self.mode!r} (use {', '.join(MODES)})")
        if self.shape not in SHAPES:
            raise RecipeInvalid(f"unknown region shape {self.shape!r} (use {', '.join(SHAPES)})")
        if self.mode == "fixed":
            if self.box is None:
                raise RecipeInvalid("a fixed region needs its rectangle (box)")
            x0, y0, x1, y1 = self.box
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in self.box):
                raise RecipeInvalid("a fixed region's box must be four finite numbers")
            if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
                raise RecipeInvalid("a fixed region must lie inside the photo (fractions 0..1, "
                                    "x0 < x1, y0 < y1)")
            if x1 - x0 < MIN_FRACTION or y1 - y0 < MIN_FRACTION:
                raise RecipeInvalid("the fixed region is too small to judge a can")
        elif self.box is not None:
            raise RecipeInvalid(f"only a fixed region has a box, not {self.mode!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.mode == "fixed":
            out["shape"] = self.shape
            out["box"] = [round(float(v), 5) for v in self.box or ()]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> SideRegion:
        if not isinstance(data, Mapping):
            raise RecipeInvalid("a side's region must be a JSON object")
        unknown = set(data) - {"mode", "shape", "box"}
        if unknown:
            raise RecipeInvalid(f"unknown key(s) in a side's region: {', '.join(sorted(map(str, unknown)))}")
        box = data.get("box")
        if box is not None:
            if not isinstance(box, (list, tuple)) or len(box) != 4:
                raise RecipeInvalid("a fixed region's box must be a list of four numbers")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
                raise RecipeInvalid("a fixed region's box must be four numbers")
            box = tuple(float(v) for v in box)
        mode, shape = data.get("mode", "auto"), data.get("shape", "rect")
        if not isinstance(mode, str) or not isinstance(shape, str):
            raise RecipeInvalid("a region's mode and shape must be words")
        return cls(mode=mode, shape=shape, box=box)


@dataclass(frozen=True)
class RegionRecipe:
    default: SideRegion = field(default_factory=SideRegion)
    sides: Mapping[str, SideRegion] = field(default_factory=dict)

    def for_side(self, side_name: str) -> SideRegion:
        return self.sides.get(side_name, self.default)

    def with_side(self, side_name: str, region: SideRegion) -> RegionRecipe:
        sides = dict(self.sides)
        sides[side_name] = region
        return RegionRecipe(self.default, sides)

    def check_sides(self, side_names: list[str] | tuple[str, ...]) -> None:
        """Refuse regions for sides the product does not have (a renamed side would be lost)."""
        unknown = [s for s in self.sides if s not in side_names]
        if unknown:
            raise RecipeInvalid(f"region(s) for side(s) the product does not have: {', '.join(unknown)}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"default": self.default.to_dict()}
        if self.sides:
            out["sides"] = {name: r.to_dict() for name, r in self.sides.items()}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> RegionRecipe:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise RecipeInvalid("the region recipe must be a JSON object")
        unknown = set(data) - {"default", "sides"}
        if unknown:
            raise RecipeInvalid(f"unknown key(s) in the region recipe: {', '.join(sorted(map(str, unknown)))}")
        default = SideRegion.from_dict(data.get("default", {}))
        sides_raw = data.get("sides", {})
        if not isinstance(sides_raw, Mapping):
            raise RecipeInvalid("the recipe's sides must be a JSON object")
        sides = {}
        for name, region in sides_raw.items():
            if not isinstance(name, str) or not name.strip():
                raise RecipeInvalid("a side name in the region recipe is empty")
            sides[name] = SideRegion.from_dict(region)
        return cls(default=default, sides=sides)

    @classmethod
    def from_json(cls, text: str | None) -> RegionRecipe:
        """``None`` or an empty string is the default recipe (auto for every side)."""
        if text is None or not str(text).strip():
            return cls()
        if len(text) > MAX_JSON_CHARS:
            raise RecipeInvalid("the region recipe is too long")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise RecipeInvalid("the region recipe is not valid JSON") from None
        return cls.from_dict(data)
