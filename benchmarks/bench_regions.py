#!/usr/bin/env python3
"""Time per can of the default model with its inspection regions against the previous default.

    .venv/bin/python benchmarks/bench_regions.py --old /tmp/default-before-regions \\
        [--new resources/models/default] [--rounds 5] [--repeats 10] [--threads 2] \\
        [--runtimes torch,openvino]

    # the previous default, as shipped before regions:
    mkdir -p /tmp/default-before-regions && for f in model.json weights.safetensors; do \\
      git show 1716d03:resources/models/default/$f > /tmp/default-before-regions/$f; done

Both models run in one process on the same seven real can photos (640x640 JPEGs, the first seven
defective photos of the data set, as docs/ENGINE.md's bench), end to end as ``main.py bench``
times a can (``core.evaluation.benchmarking.bench_model``: decode, region finding, resize and
normalise, one batched forward pass, heatmaps and boxes). The models alternate for ``--rounds``
rounds, so a change in the machine's load hits both alike; the ratio of the medians is printed.
The previous default runs in torch (the only runtime the station had then); the new one in each of
``--runtimes`` (torch by default; ``openvino`` or ``onnxruntime``: exported and checked as the
station loads it, ``core.model.runtime.loading.load_for_inspection``), in the same rounds.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loso_cans import default_data  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", required=True, help="the default model before regions (see above)")
    p.add_argument("--new", default=str(ROOT / "resources" / "models" / "default"))
    p.add_argument("--data", default=str(default_data()))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runtimes", default="torch", help="comma-separated runtimes for the new model")
    args = p.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np
    import torch

    from core.evaluation.benchmarking import bench_model, photos
    from core.model.io import load_model
    from core.model.runtime.loading import load_for_inspection

    torch.set_num_threads(args.threads)
    images = sorted(str(p) for p in (Path(args.data) / "defect").iterdir())[:7]
    jpegs = photos(images, 7, 640)
    cache = tempfile.mkdtemp(prefix="bench-regions-")
    models = {}
    for runtime in args.runtimes.split(","):
        model = load_model(args.new) if runtime == "torch" else \
            load_for_inspection(args.new, runtime, args.threads, cache_root=cache)
        got = model.engine.name if model.engine is not None else "torch"
        if got != runtime:
            raise SystemExit(f"the new model does not run in {runtime}: {model.runtime_note}")
        models[f"new/{runtime}"] = model
    models["old/torch"] = load_model(args.old)
    runs: dict[str, list] = {k: [] for k in models}
    for _ in range(args.rounds):
        for key, model in models.items():
            runs[key].append(bench_model(key, model, jpegs, args.repeats, warmup=2))
    print(f"one can = 7 photos of 640x640, end to end; torch {torch.__version__}, {args.threads} threads, "
          f"load average {os.getloadavg()[0]:.1f}; {args.rounds} alternating rounds of {args.repeats}")
    medians = {}
    for key, rows in runs.items():
        medians[key] = float(np.median([r["median_ms"] for r in rows]))
        stages = {s: float(np.median([r["stages_ms"][s] for r in rows])) for s in rows[0]["stages_ms"]}
        spec = models[key].spec
        print(f"{key}: {spec.name} v{spec.version} ({'regions' if models[key].regions else 'whole photo'}, "
              f"{spec.input_size}px): median {medians[key]:.1f} ms per can; decode / regions+preprocess / "
              f"network / heatmaps+boxes {stages['decode']:.1f} / {stages['preprocess']:.1f} / "
              f"{stages['network']:.1f} / {stages['post']:.1f} ms")
    for key in medians:
        if key != "old/torch":
            print(f"{key} / old/torch = {medians[key] / medians['old/torch']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
