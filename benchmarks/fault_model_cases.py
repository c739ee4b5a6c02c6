"""The damaged model folders ``faults_engine`` feeds ``load_model``: one fault per copy of a model.

Deterministic for a seed (numpy's generator); cases are generated lazily, one at a time.
"""
from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.special_files import hostile_files

SPECIAL_KINDS = ("fifo", "dev_zero", "dev_urandom", "sparse", "folder", "dangling", "loop")


@dataclass
class ModelCase:
    label: str
    spec: bytes | None = None          # None: the original model.json
    weights: bytes | None = None       # None: the original weights (a hard link, never written)
    spec_special: str | None = None    # a kind from SPECIAL_KINDS (or "missing") in place of model.json
    weights_special: str | None = None
    folder_special: str | None = None  # "missing" | "file"


ABSURD = [
    ("input_size", 4096), ("input_size", 0), ("input_size", "192"), ("input_size", 10**30),
    ("std", [0, 0, 0]), ("std", [1e-9, 0.5, 0.5]), ("std", [float("nan")] * 3), ("mean", [1e308] * 3),
    ("score_scale", {"raw_low": 0, "raw_threshold": 5e-324, "raw_high": 1e-323}),
    ("score_scale", {"raw_low": 0, "raw_threshold": float("inf"), "raw_high": 1}),
    ("heatmap_scale", [1, 2, 3]), ("heatmap_scale", {"raw_low": "a", "raw_threshold": 0, "raw_high": 1}),
    ("thresholds", "default"), ("thresholds", {"review": 0.6, "reject": 0.7}),
    ("thresholds", {"review": "x"}),
    ("class_names", ["Good"] * 100_000), ("class_names", "Good"), ("name", "n" * 1_000_000), ("name", 5),
    ("format_version", 99), ("format_version", "2"), ("format_version", True), ("kind", "hologram"),
    ("kind", "patchcore"), ("backbone", "vgg16"), ("backbone", "resnet999"), ("extra", [1]),
    ("extra", {"patchcore": {"bank_size": 10**7}}), ("weights_sha256", "0" * 64),
    ("weights_sha256", "zz"), ("weights_sha256", None), ("metrics", "good"), ("trained_on", 1),
]


def _random_json(rng: np.random.Generator, depth: int = 0) -> Any:
    pick = int(rng.integers(0, 8 if depth < 3 else 6))
    if pick == 0:
        return None
    if pick == 1:
        return bool(rng.random() < 0.5)
    if pick == 2:
        return int(rng.integers(-2**40, 2**40))
    if pick == 3:
        return float(rng.normal()) * 10.0 ** int(rng.integers(-300, 300))
    if pick == 4:
        return "".join(chr(int(c)) for c in rng.integers(32, 0x2FFF, int(rng.integers(0, 12))))
    if pick == 5:
        return float("nan")
    if pick == 6:
        return [_random_json(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))]
    return {str(k): _random_json(rng, depth + 1) for k in range(int(rng.integers(0, 4)))}


def _header(weights: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack("<Q", weights[:8])
    return json.loads(weights[8:8 + length]), weights[8 + length:]


def _with_header(header: Any, data: bytes, declared: int | None = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if declared is None else declared) + text + data


def _header_case(rng: np.random.Generator, weights: bytes) -> tuple[str, bytes]:
    header, data = _header(weights)
    names = sorted(k for k in header if k != "__metadata__")
    a, b = (names[int(i)] for i in rng.integers(0, len(names), 2))
    op = str(rng.choice(["list", "string-offsets", "overlap", "unknown-dtype", "wrong-dtype", "shape",
                         "length", "flip", "extra-tensor", "missing-tensor", "metadata", "nested"]))
    h = json.loads(json.dumps(header))
    if op == "list":
        return op, _with_header(list(h.items())[:3], data)
    if op == "string-offsets":
        h[a]["data_offsets"] = [str(v) for v in h[a]["data_offsets"]]
    elif op == "overlap":
        h[b]["data_offsets"] = h[a]["data_offsets"]
    elif op == "unknown-dtype":
        h[a]["dtype"] = "Q99"
    elif op == "wrong-dtype":
        h[a]["dtype"] = str(rng.choice(["U8", "I8", "BOOL", "F64", "I32"]))
    elif op == "shape":
        h[a]["shape"] = [int(rng.integers(0, 2**20)) for _ in range(int(rng.integers(0, 4)))]
    elif op == "length":
        # Picked by index: numpy would turn the list into float64 and 2**64 - 1 into 2**64.
        lengths = (0, 7, 2**63, 2**64 - 1, len(weights))
        return op, _with_header(h, data, declared=lengths[int(rng.integers(0, len(lengths)))])
    elif op == "flip":
        raw = bytearray(weights)
        (length,) = struct.unpack("<Q", weights[:8])
        for pos in rng.integers(0, 8 + length, int(rng.integers(1, 9))):
            raw[pos] ^= 1 << int(rng.integers(0, 8))
        return op, bytes(raw)
    elif op == "extra-tensor":
        h["zz.extra"] = {"dtype": "F32", "shape": [10**6], "data_offsets": [0, 4 * 10**6]}
    elif op == "missing-tensor":
        del h[a]
    elif op == "metadata":
        h["__metadata__"] = {"format": [1, 2]}
    else:
        return op, _with_header(b"[" * 50_000 + b"]" * 50_000, data)
    return op, _with_header(h, data)


def model_cases(n: int, spec: dict, spec_bytes: bytes, weights: bytes, seed: int = 0) -> Iterator[ModelCase]:
    rng = np.random.default_rng(seed)
    groups = ("absurd", "random-json", "spec-bytes", "header", "data", "special")
    for i in range(n):
        group = groups[i % len(groups)]
        if group == "absurd":
            key, value = ABSURD[(i // len(groups)) % len(ABSURD)]
            yield ModelCase(f"json:{key}", spec=json.dumps(spec | {key: value}).encode())
        elif group == "random-json":
            key = str(rng.choice(sorted(spec)))
            yield ModelCase(f"json:random:{key}", spec=json.dumps(spec | {key: _random_json(rng)}).encode())
        elif group == "spec-bytes":
            op = str(rng.choice(["flip", "truncate", "not-utf8", "padding", "nested", "empty", "bom"]))
            raw = bytearray(spec_bytes)
            if op == "flip":
                for pos in rng.integers(0, len(raw), int(rng.integers(1, 9))):
                    raw[pos] ^= 1 << int(rng.integers(0, 8))
            elif op == "truncate":
                raw = raw[:int(rng.integers(0, len(raw)))]
            elif op == "not-utf8":
                raw = bytearray(b"\xff\xfe") + raw
            elif op == "padding":
                raw = raw + b" " * (2 << 20)
            elif op == "nested":
                raw = bytearray(b"[" * 200_000 + b"]" * 200_000)
            elif op == "empty":
                raw = bytearray()
            else:
                raw = bytearray(b"\xef\xbb\xbf") + raw
            yield ModelCase(f"spec-bytes:{op}", spec=bytes(raw))
        elif group == "header":
            op, data = _header_case(rng, weights)
            yield ModelCase(f"header:{op}", weights=data)
        elif group == "data":
            op = str(rng.choice(["flip-20", "flip-1", "truncate", "append", "zero-run"]))
            _, body = _header(weights)
            start = len(weights) - len(body)
            raw = bytearray(weights)
            if op.startswith("flip"):
                count = 20 if op == "flip-20" else 1
                for pos in rng.choice(np.arange(start, len(raw)), size=count, replace=False):
                    raw[pos] ^= 0xFF
            elif op == "truncate":
                raw = raw[:int(rng.integers(start, len(raw)))]
            elif op == "append":
                raw += rng.integers(0, 256, int(rng.integers(1, 4096)), dtype=np.uint8).tobytes()
            else:
                at = int(rng.integers(start, len(raw) - 4096))
                raw[at:at + 4096] = bytes(4096)
            yield ModelCase(f"data:{op}", weights=bytes(raw))
        else:
            which = int(rng.integers(0, 3))
            kind = str(rng.choice(SPECIAL_KINDS + ("missing",)))
            if which == 0:
                yield ModelCase(f"special:model.json:{kind}", spec_special=kind)
            elif which == 1:
                yield ModelCase(f"special:weights:{kind}", weights_special=kind)
            else:
                folder_kind = str(rng.choice(["missing", "file"]))
                yield ModelCase(f"special:folder:{folder_kind}", folder_special=folder_kind)


def write_model_case(folder: Path, case: ModelCase, pristine: Path, special_dir: Path) -> None:
    """Lay out ``case`` at ``folder`` (which must not exist yet)."""
    if case.folder_special == "missing":
        return
    if case.folder_special == "file":
        folder.write_bytes(b"not a folder")
        return
    folder.mkdir(parents=True)
    spec_path, weights_path = folder / "model.json", folder / "weights.safetensors"
    original_spec = pristine.parent / "model.json"
    for path, special, content, source in (
            (spec_path, case.spec_special, case.spec, original_spec),
            (weights_path, case.weights_special, case.weights, pristine)):
        if special == "missing":
            continue
        if special is not None:
            head = source.read_bytes()[:4096] if source.exists() else b""
            made = hostile_files(special_dir / path.name, path.name, head=head)[special]
            if special == "folder":
                os.rename(made, path)
            else:
                path.symlink_to(made)
        elif content is not None:
            path.write_bytes(content)
        elif path is weights_path:
            os.link(pristine, path)
        else:
            path.write_bytes(source.read_bytes())
