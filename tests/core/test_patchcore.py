"""The good-only detector on tiny synthetic cans: builds in seconds, finds the blob, saves and loads."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.detectors.patchcore.coreset import greedy_coreset
from core.errors import Cancelled, DatasetInvalid
from core.evaluation.evaluate import evaluate_model
from core.model.io import load_model
from core.model.spec import read_spec
from core.progress import Progress
from core.training import TrainConfig, scan_dataset, train_model
from tests.helpers import make_synthetic_cans, synthetic_can

SIZE = 96


def _config(**changes) -> TrainConfig:
    return TrainConfig(**({"detector": "patchcore", "input_size": SIZE, "batch_size": 8, "seed": 0} | changes))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One model from 12 good images only (the folder has no defect/ at all)."""
    root = tmp_path_factory.mktemp("pc")
    data = make_synthetic_cans(root / "train", n_good=12, n_defect=0, size=SIZE, seed=5)
    started = time.perf_counter()
    model = train_model(scan_dataset(data), _config(), Progress(), name="pc-test")
    return model, time.perf_counter() - started, root


@pytest.mark.slow
def test_builds_from_a_dozen_good_images(built):
    model, seconds, _ = built
    spec = model.spec
    assert spec.kind == "patchcore"
    print(f"PatchCore built from 12 good images in {seconds:.1f} s (build times: "
          "benchmarks/bench_detectors.py)")
    assert spec.trained_on["bank_images"] + spec.trained_on["calibration_good"] == 12
    assert spec.trained_on["calibration_defect"] == 0
    bank = model.network.memory_bank
    assert bank.shape[0] == spec.extra["patchcore"]["bank_size"] >= 1
    assert torch.isfinite(bank).all() and bank.abs().sum() > 0
    assert "quantile" in spec.trained_on["calibration"]["rule"]   # good-only rule, stated


@pytest.mark.slow
def test_defect_scores_higher_and_the_peak_sits_on_it(built):
    model, _, _ = built
    rng = np.random.default_rng(11)
    goods = [synthetic_can(rng, SIZE)[0] for _ in range(6)]
    defects, masks = zip(*[synthetic_can(rng, SIZE, defects=1) for _ in range(6)])
    good_scores = [r.score for r in model.inspect_sides(goods, [f"g{i}" for i in range(6)])]
    results = model.inspect_sides(list(defects), [f"d{i}" for i in range(6)])
    assert min(r.score for r in results) > max(good_scores)
    _, raw_maps = model.raw_outputs(list(defects))
    for raw, mask in zip(raw_maps, masks):
        y, x = np.unravel_index(np.argmax(raw), raw.shape)
        ys, xs = np.nonzero(mask)
        # Peak within a few pixels of the blob (the map is smoothed with sigma 4 px).
        distance = np.min(np.hypot(ys - y * mask.shape[0] / raw.shape[0], xs - x * mask.shape[1] / raw.shape[1]))
        assert distance <= 6


@pytest.mark.slow
def test_good_only_threshold_is_not_degenerate(built, tmp_path: Path):
    model, _, _ = built
    data = make_synthetic_cans(tmp_path / "eval", n_good=12, n_defect=6, size=SIZE, seed=9)
    report = evaluate_model(model, data, Progress())
    assert report.decision.fp < report.n_good          # never every good image flagged
    assert report.decision.tp > 0
    assert report.image_auroc > 0.9
    assert report.pixel_auroc > 0.8
    t = model.spec.thresholds
    assert t.review < 0.5 < t.reject                       # a review band exists


@pytest.mark.slow
def test_save_and_load_round_trip(built, tmp_path: Path):
    model, _, _ = built
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert read_spec(tmp_path / "m").extra == model.spec.extra
    rng = np.random.default_rng(3)
    images = [synthetic_can(rng, SIZE, defects=i % 2)[0] for i in range(3)]
    a = model.inspect_sides(images, ["a", "b", "c"])
    b = again.inspect_sides(images, ["a", "b", "c"])
    np.testing.assert_allclose([r.score for r in a], [r.score for r in b], atol=1e-4)
    np.testing.assert_allclose(a[1].heatmap, b[1].heatmap, atol=1e-3)


@pytest.mark.slow
def test_evaluate_command_reads_the_saved_model(built, tmp_path: Path, capsys):
    import argparse
    import json

    from core.commands import evaluate as command
    from core.settings import Settings

    model, _, _ = built
    model.save(tmp_path / "m", half=True)   # half-precision bank must still work
    data = make_synthetic_cans(tmp_path / "eval", n_good=5, n_defect=5, size=SIZE, seed=21)
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["evaluate", str(data), "--model", str(tmp_path / "m"), "--json"])
    assert args.run(args, Settings(data_dir=tmp_path / "station")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["detector"] == "patchcore" and report["images"] == 10
    assert report["image_auroc"] > 0.8 and report["pixel_auroc"] is not None


@pytest.mark.slow
def test_defects_only_calibrate_and_never_enter_the_bank(tmp_path: Path):
    data = make_synthetic_cans(tmp_path / "mixed", n_good=10, n_defect=4, size=SIZE, seed=4)
    model = train_model(scan_dataset(data), _config(options={"max_bank": 64}), Progress(), "mixed")
    on = model.spec.trained_on
    assert on["calibration_defect"] == 4 and on["bank_images"] + on["calibration_good"] == 10
    assert model.spec.extra["patchcore"]["bank_size"] == 64
    assert "F1" in on["calibration"]["rule"]


@pytest.mark.slow
def test_cancel_raises_cancelled(tmp_path: Path):
    data = make_synthetic_cans(tmp_path / "c", n_good=10, n_defect=0, size=SIZE, seed=6)
    calls = []

    def stop_after_first(done, total, message):
        calls.append(message)
        progress.cancel()

    progress = Progress(stop_after_first)
    with pytest.raises(Cancelled):
        train_model(scan_dataset(data), _config(batch_size=2), progress, "x")
    assert len(calls) == 1


def test_too_few_good_images_is_a_clear_error(tmp_path: Path):
    data = make_synthetic_cans(tmp_path / "few", n_good=4, n_defect=3, size=SIZE)
    with pytest.raises(DatasetInvalid, match="at least"):
        train_model(scan_dataset(data), _config(), Progress(), "few")


def test_unknown_option_is_rejected(tmp_path: Path):
    data = make_synthetic_cans(tmp_path / "o", n_good=8, n_defect=0, size=SIZE)
    with pytest.raises(ValueError, match="patchcore detector has no option 'bank'"):
        train_model(scan_dataset(data), _config(options={"bank": 3}), Progress(), "o")


def test_coreset_is_distinct_seeded_and_keeps_the_outlier():
    g = torch.Generator().manual_seed(0)
    points = torch.randn(500, 8, generator=g) * 0.1
    points[123] = 50.0                       # one far-away patch: k-center must keep it
    a = greedy_coreset(points, 10, projection_dim=None, seed=1)
    assert len(set(a.tolist())) == 10 and 123 in a.tolist()
    assert torch.equal(a, greedy_coreset(points, 10, projection_dim=None, seed=1))
    # k-center covers the set better than a random subset of the same size.
    def cover(idx):
        return torch.cdist(points, points[idx]).min(dim=1).values.max()
    assert cover(a) < cover(torch.arange(10))
    assert torch.equal(greedy_coreset(points, 600), torch.arange(500))
