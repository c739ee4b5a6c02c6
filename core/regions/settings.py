"""How a model sees a side, as recorded in its ``model.json`` (``preprocessing``).

Pure Python (no numpy, no OpenCV) so that reading a model's description stays cheap.
Immutable; thread-safe.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

OUTSIDE = ("fill", "blur")
SETTINGS_VERSION = 1
MIN_MARGIN = -0.1        # a judged region taken in by at most a tenth of the can's size
TALL_READING = False     # new models: the locator's third reading (docs/REGIONS.md, run 7)
HIGHPASS_READING = True   # new models: the locator's high-pass reading (docs/REGIONS.md, run 14)


@dataclass(frozen=True)
class RegionSettings:
    """How a model sees a side; stored in ``model.json`` as ``preprocessing``.

    ``default``: the region of a side whose product recipe says nothing ("auto" or "whole");
    ``margin``: the judged region is the outline grown by this share of the outline's larger
    side (0: the outline itself, so no backdrop at all is judged; the window around it still
    shows ``context``, blanked; below 0: the located can's outline is taken in, so that the last
    pixels of the can, where a backdrop shows through a soft edge, are not judged either; a
    fixed region is then judged as drawn);
    ``context``: the window is the outline's box grown by this share on every side, then made
    square; ``outside``: "fill" or "blur"; ``tall_reading``: the can locator also tries its third
    reading, which keeps vertical lines up to ``TALL_FRACTION`` of the photo (the long sides of a
    can that fills most of the photo's height; docs/REGIONS.md, run 7); ``highpass_reading``: it
    also tries its high-pass reading, kept when the colours change more strongly across its
    outline (docs/REGIONS.md, run 14). A model records the locator it was trained with, so
    inspection finds its cans the same way; a model from before these keys has them False.
    """
    default: str = "auto"
    margin: float = 0.0
    context: float = 0.12
    outside: str = "fill"
    tall_reading: bool = TALL_READING
    highpass_reading: bool = HIGHPASS_READING
    version: int = SETTINGS_VERSION

    def __post_init__(self) -> None:
        if self.default not in ("auto", "whole"):
            raise ValueError(f"preprocessing default must be auto or whole, not {self.default!r}")
        if self.outside not in OUTSIDE:
            raise ValueError(f"preprocessing outside must be one of {OUTSIDE}, not {self.outside!r}")
        for key in ("tall_reading", "highpass_reading"):
            if not isinstance(getattr(self, key), bool):
                raise ValueError(f"preprocessing {key} must be true or false, not {getattr(self, key)!r}")
        if not (MIN_MARGIN <= self.margin <= 0.5 and 0.0 <= self.context <= 1.0):
            raise ValueError(f"preprocessing margin must be {MIN_MARGIN}..0.5 and context 0..1")
        if self.version > SETTINGS_VERSION:
            raise ValueError(f"preprocessing version {self.version} is newer than this program reads")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def locator(self) -> dict[str, bool]:
        """The can locator's options this model was trained with (``locate_can``'s keywords)."""
        return {"tall_reading": self.tall_reading, "highpass_reading": self.highpass_reading}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RegionSettings | None:
        """``None`` or ``{}`` (a model from before regions): None, the whole photo."""
        if not data:
            return None
        if not isinstance(data, Mapping):
            raise ValueError("preprocessing must be a JSON object")
        known = {"default", "margin", "context", "outside", "tall_reading", "highpass_reading", "version"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown preprocessing key(s): {', '.join(sorted(unknown))}")
        try:
            return cls(default=str(data.get("default", "auto")), margin=float(data.get("margin", 0.0)),
                       context=float(data.get("context", 0.12)), outside=str(data.get("outside", "fill")),
                       tall_reading=data.get("tall_reading", False),
                       highpass_reading=data.get("highpass_reading", False),
                       version=int(data.get("version", SETTINGS_VERSION)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid preprocessing: {exc}") from None
