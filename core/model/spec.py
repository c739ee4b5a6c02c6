"""The model's description on disk, ``model.json``: ``ModelSpec``, reading and checking it, file names.

Torch-free and cheap (JSON only): listing models, the GUI and the database never need the engine
for it. Anything missing, malformed or out of range raises ``ModelFileInvalid`` with the reason;
no other exception escapes ``read_spec`` for any content of the file.

Format 2 (this version) records the SHA-256 of ``weights.safetensors`` as ``weights_sha256``;
format-1 folders (no checksum) still load, and ``core.model.io.resave_model`` upgrades them.

Bounds (a crafted file must not exhaust memory before the weights are checked, issue 9 item 7):
``model.json`` is read only if it is a regular file of at most ``MAX_SPEC_BYTES``; JSON nesting is
at most ``MAX_DEPTH`` deep; ``input_size`` lies in ``INPUT_SIZE_RANGE`` (the backbones reduce by 32,
so 32 is the least that leaves one feature cell; 1024 is four times the largest size trained);
names and labels are short text; scales are finite, not absurd, and their spans not vanishing;
``std`` is at least ``MIN_STD``. The detector's own options (a PatchCore bank size) are bounded by
its network builder, which ``load_model`` runs on torch's meta device (no memory) to compare with
the weights' header before anything is allocated.

Thread-safe: functions keep no shared state.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeGuard

from common.files import FileTooLarge, NotARegularFile, read_regular
from core.errors import ModelFileInvalid
from core.scoring.calibration import ScoreScale, Thresholds

FORMAT_VERSION = 2
SPEC_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"

MAX_SPEC_BYTES = 1024 * 1024
MAX_DEPTH = 32
INPUT_SIZE_RANGE = (32, 1024)
MAX_NAME = 200            # characters of name, kind, backbone, version, created
MAX_CLASSES = 16
MAX_SCALE_VALUE = 1e9     # raw detector units: logits and patch distances are far below
MIN_SPAN = 1e-6           # relative to the scale's magnitude; calibration keeps spans >= 2.5e-4
MIN_STD = 1e-3            # normalisation in 0..1 units: a smaller std turns noise into huge inputs
MAX_MEAN = 10.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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
    def from_dict(cls, data: Any) -> ModelSpec:
        """Validate and build; raises ``ValueError`` with a readable reason (and nothing else)."""
        if not isinstance(data, dict):
            raise ValueError("model.json must hold a JSON object")
        version = data.get("format_version")
        if not _is_int(version) or version < 1:
            raise ValueError("model.json has no valid format_version")
        if version > FORMAT_VERSION:
            raise ValueError(f"format version {version} is newer than this program reads "
                             f"({FORMAT_VERSION}); update the station")
        required = ("name", "kind", "backbone", "input_size", "mean", "std", "score_scale",
                    "heatmap_scale")
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"model.json lacks {', '.join(missing)}")
        low, high = INPUT_SIZE_RANGE
        size = data["input_size"]
        if not _is_int(size) or not low <= size <= high:
            raise ValueError(f"input_size must be a whole number from {low} to {high}, got {_short(size)}")
        mean = _triple(data["mean"], "mean", -MAX_MEAN, MAX_MEAN)
        std = _triple(data["std"], "std", MIN_STD, MAX_MEAN)
        texts: dict[str, Any] = {key: _text(data[key], key) for key in ("name", "kind", "backbone")}
        for key in ("version", "created"):
            if key in data:
                texts[key] = _text(data[key], key)
        free: dict[str, Any] = {}
        for key in ("trained_on", "metrics", "extra", "preprocessing"):
            value = data.get(key, {})
            if not isinstance(value, dict):
                raise ValueError(f"{key} must be a JSON object")
            if _depth(value) > MAX_DEPTH:
                raise ValueError(f"{key} is nested more than {MAX_DEPTH} levels deep")
            free[key] = value
        from core.regions.settings import RegionSettings
        RegionSettings.from_dict(free["preprocessing"])  # ValueError with the reason
        names = data.get("class_names", ["Good", "Anomaly"])
        if (not isinstance(names, list) or not 2 <= len(names) <= MAX_CLASSES):
            raise ValueError(f"class_names must be a list of 2 to {MAX_CLASSES} names")
        class_names = tuple(_text(n, "each class name") for n in names)
        score_scale = _scale(data["score_scale"], "score_scale")
        heatmap_scale = _scale(data["heatmap_scale"], "heatmap_scale")
        thresholds = _thresholds(data.get("thresholds", {}))
        return cls(**texts, **free, input_size=size, mean=mean, std=std, score_scale=score_scale,
                   heatmap_scale=heatmap_scale, thresholds=thresholds, class_names=class_names,
                   format_version=version)

    def replace(self, **changes: Any) -> ModelSpec:
        return replace(self, **changes)


@dataclass(frozen=True)
class SpecFile:
    """What ``model.json`` holds: the spec, and the weights' checksum (None in format 1)."""
    spec: ModelSpec
    weights_sha256: str | None


def spec_json(spec: ModelSpec, weights_sha256: str) -> str:
    """The text of ``model.json`` in the current format, for ``core.model.io.save_model``."""
    if not _SHA256.match(weights_sha256):
        raise ValueError(f"not a SHA-256 in hex: {weights_sha256!r}")
    data = spec.to_dict() | {"format_version": FORMAT_VERSION, "weights_sha256": weights_sha256}
    return json.dumps(data, indent=2)


def read_spec(folder: str | Path) -> ModelSpec:
    """The spec of the model in ``folder`` (JSON only; does not touch the weights)."""
    return read_spec_file(folder).spec


def read_spec_file(folder: str | Path) -> SpecFile:
    """The spec and the recorded weights checksum of the model in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileInvalid(folder, "the folder does not exist")
    path = folder / SPEC_FILE
    try:
        raw = read_regular(path, MAX_SPEC_BYTES)
    except FileNotFoundError:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} is missing") from None
    except (NotARegularFile, FileTooLarge) as exc:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} cannot be used: {exc}") from None
    except OSError as exc:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileInvalid(folder, f"{SPEC_FILE} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        reason = f"{SPEC_FILE} is not valid JSON ({exc.msg}, line {exc.lineno})"
        raise ModelFileInvalid(folder, reason) from None
    except RecursionError:
        reason = f"{SPEC_FILE} is nested too deeply to be a model description"
        raise ModelFileInvalid(folder, reason) from None
    try:
        spec = ModelSpec.from_dict(data)
    except ValueError as exc:
        raise ModelFileInvalid(folder, str(exc)) from None
    checksum = data.get("weights_sha256")
    if spec.format_version >= 2 and not (isinstance(checksum, str) and _SHA256.match(checksum)):
        raise ModelFileInvalid(folder, f"{SPEC_FILE} lacks a valid weights_sha256 (64 hex digits), "
                                       "which format 2 requires")
    return SpecFile(spec, checksum if spec.format_version >= 2 else None)


# -- checks ------------------------------------------------------------------------------------------
def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    if len(value) > MAX_NAME:
        raise ValueError(f"{key} is longer than {MAX_NAME} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{key} holds characters that are not valid text") from None
    return value


def _finite(value: Any, what: str, low: float, high: float) -> float:
    if not _is_number(value):
        raise ValueError(f"{what} must be a number, got {_short(value)}")
    number = float(value)  # a huge int raises OverflowError in float(): also "not finite"
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{what} must be a finite number from {low:g} to {high:g}, got {_short(value)}")
    return number


def _triple(value: Any, key: str, low: float, high: float) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"{key} must be three numbers (one per colour channel)")
    a, b, c = (_number(v, key, low, high) for v in value)
    return (a, b, c)


def _number(value: Any, key: str, low: float, high: float) -> float:
    try:
        return _finite(value, f"each value of {key}", low, high)
    except OverflowError:
        raise ValueError(f"each value of {key} must be finite") from None


def _scale(value: Any, key: str) -> ScoreScale:
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a JSON object with raw_low, raw_threshold and raw_high")
    names = ("raw_low", "raw_threshold", "raw_high")
    missing = [n for n in names if n not in value]
    if missing:
        raise ValueError(f"invalid scale: {key} lacks {', '.join(missing)}")
    low, mid, high = (_number(value[n], f"{key}.{n}", -MAX_SCALE_VALUE, MAX_SCALE_VALUE) for n in names)
    if not low < mid < high:
        raise ValueError(f"invalid scale: {key} needs raw_low < raw_threshold < raw_high")
    smallest = MIN_SPAN * max(1.0, abs(low), abs(high))
    if min(mid - low, high - mid) < smallest:
        raise ValueError(f"invalid scale: {key} has a vanishing span (below {smallest:.3g}), which would "
                         "turn tiny differences into huge scores")
    return ScoreScale(low, mid, high)


def _thresholds(value: Any) -> Thresholds:
    if not isinstance(value, dict):
        raise ValueError("thresholds must be a JSON object with review and reject")
    review = _number(value.get("review", 0.5), "thresholds.review", 0.0, 1.0)
    reject = _number(value.get("reject", 0.5), "thresholds.reject", 0.0, 1.0)
    try:
        return Thresholds(review, reject)
    except ValueError as exc:
        raise ValueError(f"invalid thresholds: {exc}") from None


def _depth(value: Any, level: int = 0) -> int:
    """Nesting depth, stopping early past ``MAX_DEPTH`` (never recursing deeper than that)."""
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level

