#!/usr/bin/env python3
"""Build the bundled default model: the ``RECIPE`` of ``loso_cans.py`` on ALL of the cans.

    .venv/bin/python benchmarks/build_default.py [--out resources/models/default] [--threads 2]
        [--loso /tmp/loso_cans/<RECIPE>/results.json] [--recipe NAME]

Same data, seed and recipe give the same model (training is deterministic for a seed). The model
records the data set by name, image counts and a SHA-256 over its files (names and contents),
never a path of the machine that built it; with ``--loso`` it also carries its
leave-one-session-out figures (``benchmarks/loso_cans.py --recipe <RECIPE>``), the only figures of it
that come from photo sessions it was not trained on. Weights are stored as float16.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loso_cans import RECIPES, default_data, recipe_options  # noqa: E402

NAME = "cans-cam-lite0-regions"
RECIPE = "new-hp"  # the recipe of the shipped default (docs/REGIONS.md, run 14, says why)
VERSION = "4"   # the data folder keeps each bundled version as default-<version>
# The seed of the shipped default: of seeds 0, 1 and 2 of this recipe (same locator, same data) the
# one whose model changed fewest verdicts in the backdrop check (0, 14 and 5 of 570 for seeds 2, 1,
# 0), as rule I in docs/REGIONS.md (run 14) says. Its leave-one-session-out figures are the
# recipe's (folds seeded 0). (Version 3 was "new-inset", seed 2: runs 6 and 7.)
SEED = 2


def fingerprint(samples, root: Path) -> dict:
    """Counts and one SHA-256 over "label/name:sha256-of-contents" lines, sorted."""
    lines = []
    for s in samples:
        path = Path(s.source)
        lines.append(f"{path.parent.name}/{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    lines.sort()
    return {"name": root.name, "images": len(samples),
            "good": sum(s.label == 0 for s in samples), "defect": sum(s.label == 1 for s in samples),
            "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
            "fingerprint_rule": "sha256 of the sorted lines 'good|defect/<file name>:<sha256 of the file>'"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(default_data()))
    p.add_argument("--out", default=str(ROOT / "resources" / "models" / "default"))
    p.add_argument("--loso", help="results.json of loso_cans.py --recipe RECIPE, recorded in the model")
    p.add_argument("--recipe", default=RECIPE, choices=sorted(RECIPES), help="loso_cans.py recipe")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args()
    import torch

    from core.progress import Progress
    from core.training import TrainConfig, scan_dataset, train_model

    torch.set_num_threads(args.threads)
    root = Path(args.data).resolve()
    samples = scan_dataset(root)
    data_set = fingerprint(samples, root)
    recipe = RECIPES[args.recipe]
    config = TrainConfig(input_size=recipe["input_size"], views=recipe["views"], seed=args.seed,
                         options=recipe_options(args.recipe), source=f"data set '{root.name}'")
    print(f"training on {data_set['images']} images ({data_set['good']} good, {data_set['defect']} "
          f"defect) of '{root.name}' with {recipe}", flush=True)
    model = train_model(samples, config, Progress(), name=NAME)
    spec = model.spec
    trained_on = dict(spec.trained_on, data_set=data_set, recipe=f"benchmarks/loso_cans.py RECIPES['{args.recipe}']",
                      built_by="benchmarks/build_default.py")
    metrics = dict(spec.metrics)
    if args.loso:
        loso = json.loads(Path(args.loso).read_text())
        if loso.get("recipe") != args.recipe or loso.get("commission"):
            raise SystemExit(f"{args.loso} is not a pure LOSO run of the recipe {args.recipe!r}")
        metrics["leave_one_session_out"] = {
            "command": f"benchmarks/loso_cans.py --recipe {args.recipe}",
            "folds": {d: f["counts"] for d, f in loso["folds"].items()},
            "summary": loso.get("summary", {})}
    model.spec = spec.replace(version=VERSION, trained_on=trained_on, metrics=metrics)
    model.save(args.out, half=True)
    text = (Path(args.out) / "model.json").read_text()
    for bad in (str(root), str(ROOT), "/tmp/", "/home/"):
        if bad in text:
            raise SystemExit(f"model.json names a path of this machine ({bad}); not shipping it")
    m = model.spec.metrics
    print(f"saved {args.out}: {NAME} v{VERSION}; internal validation AUROC {m.get('val_auroc')} "
          f"(same sessions as training: optimistic); thresholds {model.spec.thresholds.to_dict()}; "
          f"regions found {model.spec.extra.get('regions_found')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
