#!/usr/bin/env bash
# The accuracy benchmark of the CAM classifier on the real cans (the "Must show" of the engine):
#   1. a seeded stratified split of ../shared/datasets/cans into train (70 %) and held-out (30 %),
#      as symlinks under $OUT (no image enters the repository);
#   2. main.py train on the training part;
#   3. main.py evaluate on the held-out part (image AUROC etc., never seen in training);
#   4. main.py inspect --out on held-out images: heatmap overlays to judge by eye.
# Usage: benchmarks/train_cans.sh [OUT=/tmp/cans_bench] [extra train flags...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/cans_bench}"; shift || true
data="${CANS_DATA:-$here/../shared/datasets/cans}"
py="$here/.venv/bin/python"
cd "$here"
"$py" benchmarks/cans_split.py "$data" "$out/split" --holdout 0.3 --seed 0
"$py" main.py train "$out/split/train" --out "$out/model" "$@"
"$py" main.py evaluate "$out/split/holdout" --model "$out/model" --json > "$out/holdout_eval.json"
"$py" main.py evaluate "$out/split/holdout" --model "$out/model"
"$py" main.py inspect "$out"/split/holdout/defect/* --model "$out/model" --out "$out/overlays" > "$out/holdout_defect_inspect.json"
"$py" main.py inspect "$out"/split/holdout/good/* --model "$out/model" --out "$out/overlays" > "$out/holdout_good_inspect.json"
echo "overlays in $out/overlays, reports in $out/*.json"
