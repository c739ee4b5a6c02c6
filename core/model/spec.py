"""The model's description on disk, ``model.json``: ``ModelSpec``, reading and checking it, file names.

Torch-free and cheap (JSON only): listing models, the GUI and the database never need the engine
for it. Anything missing, malformed or out of range raises ``ModelFileInvalid`` with the reason.
Thread-safe: functions keep no shared state.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.errors import ModelFileInvalid
from core.scoring.calibration import ScoreScale, Thresholds

FORMAT_VERSION = 1
SPEC_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str                        # "cam" | "patchcore" | any registered kind
    backbone: str
    input_size: int                  # every image is resized to input_size x input_size
    mean: tuple[float, float, float]  # normalisation in 0..1 RGB units
    std: tuple[float, float, float]
    score_scale: ScoreScale
    heatmap_scale: ScoreScale
    thresholds: Thresholds = field(default_factory=Thresholds)
    class_names: tuple[str, ...] = ("Good", "Anomaly")
    version: str = "1"
    trained_on: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    extra: dict = field(default_factory=dict)
    # How the model sees a side (core.regions.settings.RegionSettings); {} = the whole photo,
    # as every model trained before inspection regions existed.
    preprocessing: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict:
        data = asdict(self)
        data["score_scale"] = self.score_scale.to_dict()
        data["heatmap_scale"] = self.heatmap_scale.to_dict()
        data["thresholds"] = self.thresholds.to_dict()
        for key in ("mean", "std", "class_names"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Any) -> "ModelSpec":
        """Validate and build; raises ``ValueError`` with a readable reason."""
        if not isinstance(data, dict):
            raise ValueError("model.json must hold a JSON object")
        version = data.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise ValueError("model.json has no valid format_version")
        if version > FORMAT_VERSION:
            raise ValueError(f"format version {version} is newer than this program reads "
                             f"({FORMAT_VERSION}); update the station")
        required = ("name", "kind", "backbone", "input_size", "mean", "std", "score_scale",
                    "heatmap_scale")
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"model.json lacks {', '.join(missing)}")
        size = data["input_size"]
        if not isinstance(size, int) or not 16 <= size <= 4096:
            raise ValueError(f"input_size must be an integer from 16 to 4096, got {size!r}")
        mean, std = _triple(data["mean"], "mean"), _triple(data["std"], "std")
        if min(std) <= 0:
            raise ValueError("std must be positive")
        for key in ("name", "kind", "backbone"):
            if not isinstance(data[key], str) or not data[key]:
                raise ValueError(f"{key} must be a non-empty string")
        for key in ("trained_on", "metrics", "extra", "preprocessing"):
            if not isinstance(data.get(key, {}), dict):
                raise ValueError(f"{key} must be a JSON object")
        from core.regions.settings import RegionSettings
        RegionSettings.from_dict(data.get("preprocessing"))  # ValueError with the reason
        try:
            score_scale = ScoreScale.from_dict(data["score_scale"])
            heatmap_scale = ScoreScale.from_dict(data["heatmap_scale"])
            thresholds = Thresholds.from_dict(data.get("thresholds", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid scale or thresholds: {exc}") from None
        known = {f.name for f in fields(cls)}
        rest = {k: v for k, v in data.items() if k in known and k not in (
            "mean", "std", "score_scale", "heatmap_scale", "thresholds", "class_names")}
        return cls(**rest, mean=mean, std=std, score_scale=score_scale,
                   heatmap_scale=heatmap_scale, thresholds=thresholds,
                   class_names=tuple(str(c) for c in data.get("class_names", ("Good", "Anomaly"))))

    def replace(self, **changes) -> "ModelSpec":
        return replace(self, **changes)


def _triple(value: Any, key: str) -> tuple[float, float, float]:
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in value)):
        raise ValueError(f"{key} must be three finite numbers")
    return (float(value[0]), float(value[1]), float(value[2]))


def read_spec(folder: str | Path) -> ModelSpec:
    """The spec of the model in ``folder`` (JSON only; does not touch the weights)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileInvalid(folder, "the folder does not exist")
    path = folder / SPEC_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} cannot be read ({exc})") from None
    try:
        return ModelSpec.from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except (TypeError, ValueError) as exc:
        raise ModelFileInvalid(folder, str(exc)) from None
