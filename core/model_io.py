"""Models on disk: a folder with ``model.json`` (the spec) and ``weights.safetensors``.

The JSON holds everything needed to use the model again: detector kind, backbone, input size,
normalisation, class names, score and heatmap scales, thresholds, what it was trained on, its
validation metrics and a format version. Weights are a flat tensor dict in safetensors; loading
never unpickles. Anything missing, truncated, corrupt, of an unknown kind or not matching the
network the spec describes raises ``ModelFileInvalid`` with the reason.

``read_spec`` reads only the JSON and does not import torch (cheap, for listing models).
Thread-safe: functions keep no shared state. ``Model`` lives in ``core.model`` and is re-exported
here (``from core.model_io import Model``).
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.calibration import ScoreScale, Thresholds
from core.errors import ModelFileInvalid

if TYPE_CHECKING:
    from core.model import Model

FORMAT_VERSION = 1
SPEC_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


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
        for key in ("trained_on", "metrics", "extra"):
            if not isinstance(data.get(key, {}), dict):
                raise ValueError(f"{key} must be a JSON object")
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


def read_safetensors_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``name -> (dtype, shape)`` from the header, after checking it against the file's size."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("the file is shorter than a safetensors header")
            (length,) = struct.unpack("<Q", head)
            if length > _MAX_HEADER or 8 + length > size:
                raise ValueError("the header length is beyond the end of the file (truncated?)")
            header = json.loads(fh.read(length))
    except FileNotFoundError:
        raise ModelFileInvalid(path.parent, f"{path.name} is missing") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFileInvalid(path.parent, f"{path.name} is damaged: {exc}") from None
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    data_len = size - 8 - length
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = info["data_offsets"]
            shape = tuple(int(d) for d in info["shape"])
            dtype = str(info["dtype"])
        except (KeyError, TypeError, ValueError):
            raise ModelFileInvalid(path.parent, f"{path.name} has a malformed entry for {name}") from None
        if not 0 <= start <= end <= data_len:
            raise ModelFileInvalid(path.parent, f"{path.name} is truncated: tensor {name} "
                                                "lies beyond the end of the file")
        out[name] = (dtype, shape)
    return out


def load_model(folder: str | Path) -> "Model":
    """Load and check a model folder; raises ``ModelFileInvalid`` with the reason."""
    import torch
    from safetensors.torch import load_file

    from core.detectors import build_network
    from core.model import Model

    folder = Path(folder)
    spec = read_spec(folder)
    weights = folder / WEIGHTS_FILE
    header = read_safetensors_header(weights)
    try:
        network = build_network(spec)
    except KeyError as exc:
        raise ModelFileInvalid(folder, str(exc.args[0])) from None
    except Exception as exc:
        raise ModelFileInvalid(folder, f"the network for kind {spec.kind!r} / backbone "
                                       f"{spec.backbone!r} cannot be built ({exc})") from None
    expected = network.state_dict()
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    if missing or unexpected:
        raise ModelFileInvalid(folder, f"the weights do not match a {spec.kind}/{spec.backbone} network "
                                       f"({len(missing)} tensors missing, e.g. {missing[:2]}; "
                                       f"{len(unexpected)} unexpected, e.g. {unexpected[:2]})")
    for name, tensor in expected.items():
        if tuple(tensor.shape) != header[name][1]:
            raise ModelFileInvalid(folder, f"tensor {name} has shape {header[name][1]}, the network "
                                           f"needs {tuple(tensor.shape)}")
    try:
        state = load_file(str(weights))
    except Exception as exc:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} cannot be read ({exc})") from None
    # Weights may be stored in half precision to keep model folders small; compute in float32.
    state = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ModelFileInvalid(folder, f"tensor {bad[0]} holds NaN or infinite values")
    network.load_state_dict(state, strict=True)
    return Model(spec, network)


def __getattr__(name: str):
    if name == "Model":  # lazy: core.model imports this module
        from core.model import Model
        return Model
    raise AttributeError(name)
