"""evaluate_model and the evaluate command, on synthetic folders with an oracle model whose answers
are fixed in advance, so every expected number follows from the folder by hand."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from core.errors import Cancelled
from core.evaluation.evaluate import evaluate_model, limit_samples
from core.progress import Progress
from core.results import ANOMALY, GOOD, SideResult
from core.scoring.boxes import find_boxes
from core.scoring.calibration import Thresholds
from core.training import LabeledImage
from tests.helpers import make_synthetic_cans


class OracleModel:
    """Scores fixed per image name; heatmap = the true mask (1 inside, 0 outside) for defects."""

    def __init__(self, data: Path, scores: dict[str, float], thresholds: Thresholds) -> None:
        self.spec = SimpleNamespace(name="oracle", version="1", kind="oracle", thresholds=thresholds)
        self.scores = scores
        self.data = data
        self.calls = 0

    def inspect_sides(self, images, names):
        self.calls += 1
        out = []
        for img, name in zip(images, names):
            mask_file = self.data / "masks" / f"{name}.png"
            heat = np.zeros(img.shape[:2], np.float32)
            if mask_file.exists():
                m = cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE)
                heat = cv2.resize((m > 127).astype(np.float32), img.shape[1::-1],
                                  interpolation=cv2.INTER_NEAREST)
            s = self.scores[name]
            out.append(SideResult(name, s, ANOMALY if s >= 0.5 else GOOD,
                                  self.spec.thresholds.outcome(s), heat, find_boxes(heat), img))
        return out


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return make_synthetic_cans(tmp_path / "data", n_good=4, n_defect=3, size=64, seed=2)


def _scores(folder: Path, good: list[float], defect: list[float]) -> dict[str, float]:
    goods = sorted(p.stem for p in (folder / "good").iterdir())
    defects = sorted(p.stem for p in (folder / "defect").iterdir())
    return dict(zip(goods, good)) | dict(zip(defects, defect))


def test_perfect_oracle_scores_one_everywhere(folder: Path):
    scores = _scores(folder, [0.1, 0.2, 0.45, 0.3], [0.9, 0.55, 0.7])
    model = OracleModel(folder, scores, Thresholds(review=0.4, reject=0.6))
    seen = []
    report = evaluate_model(model, folder, Progress(lambda d, t, m: seen.append((d, t))), batch=3)

    assert model.calls == 3                       # 7 images in batches of 3
    assert seen[-1] == (7, 7)
    assert (report.n_good, report.n_defect) == (4, 3)
    assert report.image_auroc == pytest.approx(1.0)
    assert report.average_precision == pytest.approx(1.0)
    # Decision at 0.5: all three defects, no good image.
    assert report.decision.confusion_matrix == [[4, 0], [0, 3]]
    # Review threshold 0.4 also flags the good image at 0.45; reject 0.6 misses the defect at 0.55.
    assert report.at_review.confusion_matrix == [[3, 1], [0, 3]]
    assert report.at_reject.confusion_matrix == [[4, 0], [1, 2]]
    assert report.review_share == pytest.approx(2 / 7)   # 0.45 and 0.55
    assert report.outcomes.count("reject") == 2
    assert report.masked_images == 3
    assert report.pixel_auroc == pytest.approx(1.0)
    assert report.aupro == pytest.approx(1.0)
    assert report.box_hit_rate == pytest.approx(1.0)
    assert report.good_with_boxes == 0.0
    assert report.latency_ms >= 0.0
    d = report.to_dict(per_image=True)
    json.dumps(d)
    assert d["outcomes"] == {"pass": 3, "review": 2, "reject": 2}
    assert len(d["per_image"]) == 7


def test_wrong_heatmaps_and_missing_masks_are_reported(folder: Path):
    scores = _scores(folder, [0.1, 0.2, 0.3, 0.6], [0.9, 0.55, 0.4])
    model = OracleModel(folder, scores, Thresholds())
    # Invert one defect's mask so its heatmap lies beside the defect, and drop another mask.
    masks = sorted((folder / "masks").iterdir())
    inverted = 255 - cv2.imread(str(masks[0]), cv2.IMREAD_GRAYSCALE)
    model_heat_source = folder.parent / "oracle_masks"
    model_heat_source.mkdir()
    for m in masks:
        (model_heat_source / m.name).write_bytes(m.read_bytes())
    cv2.imwrite(str(model_heat_source / masks[0].name), inverted)
    model.data = folder.parent / "oracle_view"
    (model.data).mkdir()
    (model.data / "masks").symlink_to(model_heat_source)
    masks[1].unlink()

    report = evaluate_model(model, folder, Progress())
    # Defects 0.9, 0.55, 0.4 against goods 0.1, 0.2, 0.3, 0.6 win 4 + 3 + 3 of 12 pairs.
    assert report.image_auroc == pytest.approx(10 / 12)
    assert report.masked_images == 2
    assert any("without a mask" in n for n in report.notes)
    assert report.pixel_auroc < 0.9
    # (No claim on boxes: the inverted map's one box spans the whole image, defect included.)
    assert report.aupro < 0.9


def test_masks_at_another_resolution_are_resized(folder: Path):
    for m in (folder / "masks").iterdir():
        big = cv2.resize(cv2.imread(str(m), cv2.IMREAD_GRAYSCALE), (128, 128),
                         interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(m), big)
    oracle_view = folder.parent / "view"
    (oracle_view / "masks").mkdir(parents=True)
    for m in (folder / "masks").iterdir():  # the model sees masks at the image's size
        small = cv2.resize(cv2.imread(str(m), cv2.IMREAD_GRAYSCALE), (64, 64),
                           interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(oracle_view / "masks" / m.name), small)
    model = OracleModel(oracle_view, _scores(folder, [0.1] * 4, [0.9] * 3), Thresholds())
    report = evaluate_model(model, folder, Progress())
    assert report.pixel_auroc > 0.99 and report.box_hit_rate == 1.0


def test_single_class_gives_none_and_a_note(tmp_path: Path):
    folder = make_synthetic_cans(tmp_path / "d", n_good=3, n_defect=0, size=48)
    model = OracleModel(folder, _scores(folder, [0.1, 0.6, 0.2], []), Thresholds())
    report = evaluate_model(model, folder, Progress())
    assert report.image_auroc is None and report.average_precision is None
    assert report.decision.specificity == pytest.approx(2 / 3)
    assert any("image AUROC" in n for n in report.notes)


def test_cancel_stops_evaluation(folder: Path):
    model = OracleModel(folder, _scores(folder, [0.1] * 4, [0.9] * 3), Thresholds())
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        evaluate_model(model, folder, progress)
    assert model.calls == 0


def test_limit_keeps_both_classes_and_is_seeded():
    samples = [LabeledImage(f"g{i}.png", 0) for i in range(90)] + [LabeledImage(f"d{i}.png", 1) for i in range(10)]
    a = limit_samples(samples, 20)
    assert a == limit_samples(samples, 20)
    assert sum(s.label for s in a) == 2 and len(a) == 20
    assert len(limit_samples(samples, 5)) == 5 and any(s.label for s in limit_samples(samples, 5))


def _run_cli(argv: list[str], tmp_path: Path, capsys) -> tuple[int, str, str]:
    from core.commands import evaluate as command
    from core.settings import Settings

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["evaluate", *argv])
    code = args.run(args, Settings(data_dir=tmp_path / "station"))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_errors_are_one_line(tmp_path: Path, capsys):
    code, _, err = _run_cli([str(tmp_path / "nowhere"), "--model", str(tmp_path)], tmp_path, capsys)
    assert code != 0 and err.startswith("error:") and err.count("\n") == 1
    data = make_synthetic_cans(tmp_path / "d", n_good=2, n_defect=2, size=48)
    code, _, err = _run_cli([str(data), "--model", str(tmp_path / "no-model")], tmp_path, capsys)
    assert code != 0 and "cannot be used" in err and err.strip().count("\n") == 0


def test_can_level_figures_beside_the_per_image_ones(folder: Path):
    # Good 0.1, 0.2, 0.45, 0.3 and defects 0.9, 0.55, 0.7 at review 0.4 / reject 0.6.
    scores = _scores(folder, [0.1, 0.2, 0.45, 0.3], [0.9, 0.55, 0.7])
    report = evaluate_model(OracleModel(folder, scores, Thresholds(0.4, 0.6)), folder, Progress())
    figures = report.can.figures
    assert figures["good_cans_flagged"].per_1000 == pytest.approx(1000 * (1 - (3 / 4) ** 7))
    assert figures["good_cans_rejected"].per_1000 == 0.0 and figures["good_cans_rejected"].high > 300
    assert figures["defective_cans_passed"].per_1000 == 0.0        # every defect flagged
    # Not rejected: the defect at 0.55 (review), and no good side is rejected: 1 of 3.
    assert figures["defective_cans_not_rejected"].per_1000 == pytest.approx(1000 / 3)
    assert report.image_auroc_interval[1] == 1.0 and report.image_auroc_interval[0] < 0.8
    assert report.n_overlap_training is None and any("does not record" in n for n in report.notes)
    assert any("only 4 good images" in n for n in report.notes)
    d = json.loads(json.dumps(report.to_dict()))
    assert d["can_level"]["figures"]["good_cans_rejected"]["good_images"] == 4
    assert d["can_level"]["side_counts"]["defect"] == {"pass": 0, "review": 1, "reject": 2}


def test_evaluation_counts_the_images_the_model_was_trained_on(tiny_model_dir: Path, tmp_path: Path):
    from core.model.io import load_model

    model = load_model(tiny_model_dir)
    trained = tiny_model_dir.parent / "data"
    seen = evaluate_model(model, trained, Progress(), limit=10)
    assert seen.n_overlap_training == 10
    assert any("used to train or calibrate" in n for n in seen.notes)
    fresh = make_synthetic_cans(tmp_path / "fresh", n_good=3, n_defect=3, size=128, seed=99)
    (fresh / "good" / "copy.png").write_bytes(next((trained / "good").iterdir()).read_bytes())
    assert evaluate_model(model, fresh, Progress()).n_overlap_training == 1


def test_cli_prints_can_level_figures_and_json(tiny_model_dir: Path, tmp_path: Path, capsys):
    data = make_synthetic_cans(tmp_path / "d", n_good=4, n_defect=4, size=128, seed=7)
    code, out, err = _run_cli([str(data), "--model", str(tiny_model_dir)], tmp_path, capsys)
    assert code == 0, err
    assert "Can level: 7 sides per can" in out and "good cans rejected (overkill)" in out
    assert "0 of them used to train or calibrate the model" in out and "95 % interval" in out
    code, out, err = _run_cli([str(data), "--model", str(tiny_model_dir), "--json"], tmp_path, capsys)
    d = json.loads(out)
    assert d["n_overlap_training"] == 0 and d["can_level"]["sides"] == 7
    assert set(d["can_level"]["figures"]) >= {"good_cans_rejected", "defective_cans_passed"}
