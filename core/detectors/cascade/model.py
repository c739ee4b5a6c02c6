"""A cascade model: the gate judges every side; sides it clearly passes are done, the others go to
the heavy detector, whose score, map, boxes and thresholds are the answer.

The folder holds ``model.json`` (kind ``cascade``) and an empty ``weights.safetensors``; its
``extra.cascade`` names the two models by folder (relative to the cascade's folder when saved, so
a data folder can move), records the SHA-256 of each part's ``model.json`` (which records the
part's weights' SHA-256 and its parameters: a part replaced since the cascade was built is refused
at loading: build the cascade again) and the gate's pass level ``pass_below`` on
the gate's normalised scale (``core.detectors.cascade.training`` sets it below every defective
calibration image).

A side the gate passes keeps the gate's heatmap, damped below the box level, and a score mapped
into the heavy detector's pass range (``review * gate score / pass_below``), so its outcome is PASS
on the cascade's scale; its ``reason`` says the gate passed it.

Thread rule: like ``Model``, one owner thread; the cascade owns its two models.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import ModelFileInvalid, StationError
from core.model.model import Model
from core.model.spec import ModelSpec
from core.results import GOOD, Outcome, SideResult
from core.scoring.calibration import Thresholds

KIND = "cascade"
GATE_REASON = "passed by the fast gate"
HEAT_CEILING = 0.45   # a gate-passed side's heatmap stays under the box level (0.5)


class CascadeNet(nn.Module):
    """No weights of its own: the cascade's parts are the models it names."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotRunnable()


class NotRunnable(StationError):
    def __init__(self) -> None:
        super().__init__("A cascade runs through the two models it names; it has no network of its own "
                         "to run or time directly (inspect or evaluate it instead).")


def cascade_config(spec: ModelSpec) -> dict[str, Any]:
    """``spec.extra['cascade']``, checked; ``ValueError`` with the reason."""
    config = spec.extra.get(KIND)
    if not isinstance(config, dict):
        raise ValueError("model.json has no extra.cascade")
    for key in ("gate", "heavy"):
        if not isinstance(config.get(key), str) or not config[key]:
            raise ValueError(f"extra.cascade.{key} must name a model folder")
        sha = config.get(f"{key}_sha256")
        if not isinstance(sha, str) or len(sha) != 64:
            raise ValueError(f"extra.cascade.{key}_sha256 must be the checksum of the part's model.json")
    level = config.get("pass_below")
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0.0 <= level <= 1.0:
        raise ValueError("extra.cascade.pass_below must be a number from 0 to 1")
    return config


def part_checksum(folder: Path) -> str:
    """SHA-256 (hex) of a part's ``model.json``, which holds its weights' checksum and parameters."""
    from common.files import read_regular
    from core.model.spec import MAX_SPEC_BYTES, SPEC_FILE

    return hashlib.sha256(read_regular(Path(folder) / SPEC_FILE, MAX_SPEC_BYTES)).hexdigest()


def build_cascade_network(spec: ModelSpec) -> CascadeNet:
    cascade_config(spec)
    return CascadeNet()


class CascadeModel(Model):
    def __init__(self, spec: ModelSpec, network: nn.Module | None, gate: Model, heavy: Model,
                 folders: tuple[Path, Path]) -> None:
        """``folders``: where the gate and the heavy model lie (absolute)."""
        super().__init__(spec, network)
        self.gate, self.heavy = gate, heavy
        self.gate_folder, self.heavy_folder = folders
        self.pass_below = float(cascade_config(spec)["pass_below"])
        self.last_heavy_sides = 0   # how many sides of the last call the heavy detector judged

    def with_thresholds(self, thresholds: Thresholds) -> Model:
        return CascadeModel(self.spec.replace(thresholds=thresholds), self.network, self.gate,
                            self.heavy.with_thresholds(thresholds), (self.gate_folder, self.heavy_folder))

    def raw_outputs(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        raise NotRunnable()

    def inspect_sides(self, images: Sequence[np.ndarray], side_names: Sequence[str],
                      *args: Any, **kwargs: Any) -> list[SideResult]:
        """The gate on every side, the heavy detector on those it does not clearly pass (extra
        arguments, such as the product's regions, go to both)."""
        if len(images) != len(side_names):
            raise ValueError(f"{len(images)} images but {len(side_names)} side names")
        gated = self.gate.inspect_sides(images, side_names, *args, **kwargs)
        heavy = [i for i, g in enumerate(gated)
                 if g.score >= self.pass_below or bool(getattr(g, "reason", ""))]
        self.last_heavy_sides = len(heavy)
        judged: dict[int, SideResult] = {}
        if heavy:
            sub_args = [[a[i] for i in heavy] if isinstance(a, (list, tuple)) else a for a in args]
            sub_kwargs = {k: [v[i] for i in heavy] if isinstance(v, (list, tuple)) else v
                          for k, v in kwargs.items()}
            results = self.heavy.inspect_sides([images[i] for i in heavy], [side_names[i] for i in heavy],
                                               *sub_args, **sub_kwargs)
            judged = dict(zip(heavy, results))
        return [judged[i] if i in judged else self._passed(g) for i, g in enumerate(gated)]

    def _passed(self, gated: SideResult) -> SideResult:
        review = self.spec.thresholds.review
        score = review * min(max(gated.score / self.pass_below, 0.0), 1.0) * (1.0 - 1e-6) \
            if self.pass_below > 0 else 0.0
        heat = gated.heatmap
        peak = float(heat.max()) if heat.size else 0.0
        if peak > HEAT_CEILING:
            heat = (heat * (HEAT_CEILING / peak)).astype(np.float32)
        changes: dict[str, Any] = {"score": score, "label": GOOD, "outcome": Outcome.PASS,
                                   "heatmap": heat, "boxes": []}
        if "reason" in {f.name for f in dataclasses.fields(gated)}:
            changes["reason"] = GATE_REASON
        return dataclasses.replace(gated, **changes)

    def save(self, folder: str | Path, half: bool = False) -> str:
        """The cascade's own folder; its parts are named relative to it (they stay where they are)."""
        from core.model.io import save_model

        config = dict(cascade_config(self.spec))
        target = Path(folder).expanduser().resolve()
        for key, part in (("gate", self.gate_folder), ("heavy", self.heavy_folder)):
            config[key] = os.path.relpath(part, target)
        self.spec = self.spec.replace(extra={**self.spec.extra, KIND: config})
        return save_model(self, target, half=half)


def load_cascade(folder: Path, spec: ModelSpec, network: nn.Module) -> CascadeModel:
    """The catalogue's loader: both parts loaded and checked against the recorded checksums."""
    from core.model.io import load_model
    from core.model.spec import read_spec_file

    config = cascade_config(spec)
    parts: dict[str, Model] = {}
    folders: list[Path] = []
    for key in ("gate", "heavy"):
        part = (Path(folder) / config[key]).resolve()
        try:
            part_file = read_spec_file(part)
        except ModelFileInvalid as exc:
            raise ModelFileInvalid(folder, f"its {key} model {part} cannot be used ({exc.reason})") from None
        if part_file.spec.kind == KIND:
            raise ModelFileInvalid(folder, f"its {key} model {part} is a cascade itself")
        if part_checksum(part) != config[f"{key}_sha256"]:
            raise ModelFileInvalid(folder, f"its {key} model {part} changed since the cascade was built; "
                                           "build the cascade again")
        parts[key] = load_model(part)
        folders.append(part)
    return CascadeModel(spec, network, parts["gate"], parts["heavy"], (folders[0], folders[1]))
