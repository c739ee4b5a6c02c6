"""Bounded attacks on the engine's file boundaries: malformed images and malformed model folders.

``image_attacks(n)`` feeds ``core.images.load_image`` ``n`` cases: mutations of the real can photos
(bit flips, overwritten header bytes, truncations, dimensions inflated to a decompression bomb,
splices with PNG/TIFF/BMP headers, repeated segments, the photos re-encoded as PNG/TIFF/BMP and
damaged) as bytes or as files, and special files (a FIFO named ``x.jpg``, links to ``/dev/zero`` and
``/dev/urandom``, a 1.5 GB sparse file that starts like a JPEG, a folder, a dangling link, a link
loop). ``model_attacks(n)`` feeds ``core.model.io.load_model`` ``n`` copies of the bundled default
model, each damaged once: ``model.json`` (absurd values, wrong types, random JSON, flipped and cut
bytes, deep nesting, 2 MB of padding), the safetensors header (a JSON list, strings as offsets,
overlapping offsets, unknown and wrong dtypes, an absurd length), the weights' data (20 flipped
bytes as in issue 9, cut or extended) and special files in place of either file.

Every case runs in a worker process (``benchmarks.isolated``) with a timeout, so each returns
counters ``{tried, clean_errors, accepted, wrong_types, hangs, crashes, memory, undetected, ...}``:
``clean_errors`` are the person-facing type (``UnreadableImage`` / ``ModelFileInvalid``);
``accepted`` loaded (a harmless mutation); ``wrong_types`` raised anything else (by type in
``wrong_by_type``); ``undetected`` (models only) loaded although the weights' bytes were changed.
Deterministic for a ``seed``. ``benchmarks/bench_faults.py`` imports these; on its own:

    PYTHONPATH=. .venv/bin/python benchmarks/faults_engine.py [--images 2000] [--models 200]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fault_image_cases import hostile_paths, image_cases
from benchmarks.fault_model_cases import model_cases, write_model_case
from benchmarks.isolated import Isolated

ROOT = Path(__file__).resolve().parents[1]
CANS = Path(os.environ.get("STATION_CANS_DATASET", "/work/shared/datasets/cans"))
DEFAULT_MODEL = ROOT / "resources" / "models" / "default"


def _init_worker() -> None:
    import warnings

    warnings.simplefilter("ignore")  # Pillow's complaints about damaged TIFF tags: noise here
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    import core.images
    import core.model.io  # noqa: F401


def _image_case(payload: tuple[str, Any]) -> tuple[int, ...]:
    from core.images import load_image

    kind, value = payload
    return tuple(load_image(value if kind == "bytes" else Path(value)).shape)


def _model_case(folder: str) -> str:
    from core.model.io import load_model

    return load_model(folder).spec.name


def _new_counters() -> dict[str, Any]:
    return {"tried": 0, "clean_errors": 0, "accepted": 0, "wrong_types": 0, "hangs": 0, "crashes": 0,
            "memory": 0, "undetected": 0, "wrong_by_type": collections.Counter(), "examples": [],
            "by_mutation": collections.Counter()}


def _count(counters: dict, outcome, expected: str, label: str, changed_weights: bool = False) -> None:
    counters["tried"] += 1
    if outcome.kind == "ok":
        counters["accepted"] += 1
        if changed_weights:
            counters["undetected"] += 1
            counters["examples"].append(f"{label}: loaded although the weights were changed")
        return
    if outcome.kind == "raised" and outcome.error_type == expected:
        counters["clean_errors"] += 1
        return
    key = {"raised": "wrong_types", "hang": "hangs", "crash": "crashes", "memory": "memory"}[outcome.kind]
    counters[key] += 1
    if outcome.kind == "raised":
        counters["wrong_by_type"][outcome.error_type] += 1
    if len(counters["examples"]) < 20:
        counters["examples"].append(f"{label}: {outcome.kind} {outcome.error_type} {outcome.detail}"[:300])


def _finish(counters: dict, started: float, runner: Isolated) -> dict:
    counters["seconds"] = round(time.perf_counter() - started, 1)
    counters["worker_peak_rss_mb"] = round(runner.peak_rss / 2**20)
    counters["wrong_by_type"] = dict(counters["wrong_by_type"])
    counters["by_mutation"] = dict(counters["by_mutation"])
    return counters


def image_attacks(n: int = 2000, *, photos: str | Path = CANS, seed: int = 0, timeout_s: float = 10.0,
                  mem_limit_mb: int = 2048, work_dir: str | Path | None = None) -> dict[str, Any]:
    """``n`` malformed images through ``load_image``; counters as the module's docstring says."""
    sources = sorted(Path(photos).rglob("*.jpg"))
    if not sources:
        raise FileNotFoundError(f"no JPEG photos under {photos}")
    counters, started = _new_counters(), time.perf_counter()
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="faults-img-") as tmp, \
            Isolated(_image_case, timeout_s, mem_limit_mb, init=_init_worker) as runner:
        special = hostile_paths(Path(tmp) / "special", "x.jpg", sources[0].read_bytes()[:4096])
        files = Path(tmp) / "files"
        files.mkdir()
        for i, (label, payload) in enumerate(image_cases(n, sources, special, seed)):
            kind, value = payload
            if kind == "file":  # a mutated photo written to disk: exercises the path route
                path = files / f"case{i}.jpg"
                path.write_bytes(value)
                payload = ("path", str(path))
            counters["by_mutation"][label] += 1
            _count(counters, runner.run(payload), "core.errors.UnreadableImage", label)
            if kind == "file":
                path.unlink()
        return _finish(counters, started, runner)


def model_attacks(n: int = 200, *, model: str | Path = DEFAULT_MODEL, seed: int = 0,
                  timeout_s: float = 60.0, mem_limit_mb: int = 3072,
                  work_dir: str | Path | None = None) -> dict[str, Any]:
    """``n`` damaged copies of ``model`` through ``load_model``; counters as the docstring says."""
    model = Path(model)
    spec_bytes = (model / "model.json").read_bytes()
    weights_bytes = (model / "weights.safetensors").read_bytes()
    counters, started = _new_counters(), time.perf_counter()
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="faults-model-") as tmp, \
            Isolated(_model_case, timeout_s, mem_limit_mb, init=_init_worker) as runner:
        pristine = Path(tmp) / "pristine.safetensors"
        pristine.write_bytes(weights_bytes)
        pristine.chmod(0o444)
        (Path(tmp) / "model.json").write_bytes(spec_bytes)
        special = Path(tmp) / "special"
        for i, case in enumerate(model_cases(n, json.loads(spec_bytes), spec_bytes, weights_bytes, seed)):
            folder = Path(tmp) / f"case{i}"
            write_model_case(folder, case, pristine, special / str(i))
            counters["by_mutation"][case.label] += 1
            _count(counters, runner.run(str(folder)), "core.errors.ModelFileInvalid", case.label,
                   changed_weights=case.weights is not None and case.weights != weights_bytes)
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(special / str(i), ignore_errors=True)
        return _finish(counters, started, runner)


ATTACKS = {"malformed images": image_attacks, "malformed model folders": model_attacks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the full counters to this file")
    args = parser.parse_args(argv)
    results = {"malformed images": image_attacks(args.images, seed=args.seed),
               "malformed model folders": model_attacks(args.models, seed=args.seed)}
    columns = ("tried", "clean_errors", "accepted", "wrong_types", "hangs", "crashes", "memory",
               "undetected", "seconds", "worker_peak_rss_mb")
    print("| attack | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, c in results.items():
        print(f"| {name} | " + " | ".join(str(c[k]) for k in columns) + " |")
    for name, c in results.items():
        for line in c["examples"]:
            print(f"  {name}: {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    bad = sum(c[k] for c in results.values() for k in ("wrong_types", "hangs", "crashes", "memory",
                                                        "undetected"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
