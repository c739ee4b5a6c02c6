"""The fast cascade: a model folder naming a gate and a heavy model; the heavy one only sees what
the gate does not clearly pass."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.detectors import catalogue
from core.detectors.cascade.model import GATE_REASON, CascadeModel, NotRunnable
from core.errors import DatasetInvalid, ModelFileInvalid
from core.model.io import load_model
from core.progress import Progress
from core.results import Outcome
from core.training import TrainConfig, scan_dataset, train_model
from tests.scratches import make_scratch_set, scratched, textured

SIZE = 96


def _classical(data: Path, folder: Path, quantile: float) -> Path:
    config = TrainConfig(detector="classical", input_size=SIZE).with_options({"pixel_quantile": quantile})
    train_model(scan_dataset(data), config, Progress(), folder.name).save(folder)
    return folder


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """Two classical models (no training): a gate and a 'heavy' one, in one models folder."""
    root = tmp_path_factory.mktemp("cascade")
    data = make_scratch_set(root / "good", n_good=8, n_defect=0, masks=0, size=SIZE, seed=1)
    models = root / "models"
    return root, _classical(data, models / "gate", 0.99), _classical(data, models / "heavy", 0.999)


def _build(root: Path, gate: Path | str, heavy: Path | str, **options) -> CascadeModel:
    cal = make_scratch_set(root / "cal", n_good=10, n_defect=10, masks=0, size=SIZE, seed=2)
    config = TrainConfig(detector="cascade").with_options({"gate": str(gate), "heavy": str(heavy)} | options)
    model = train_model(scan_dataset(cal), config, Progress(), "cascade")
    assert isinstance(model, CascadeModel)
    return model


def test_catalogue_entry_names_its_loader_and_parts_runtime():
    entry = catalogue.get("cascade")
    assert entry.runtime == "parts" and entry.loader is not None and entry.needs_defects


def test_gate_passes_no_defective_calibration_image(parts):
    root, gate, heavy = parts
    model = _build(root, gate, heavy)
    level = model.pass_below
    cal = scan_dataset(root / "cal")
    from core.images import load_image

    scores = [r.score for r in model.gate.inspect_sides([load_image(s.source) for s in cal],
                                                         [str(i) for i in range(len(cal))])]
    assert all(s >= level for s, x in zip(scores, cal) if x.label == 1)
    assert model.spec.trained_on["gate_passes_good"] == pytest.approx(
        np.mean([s < level for s, x in zip(scores, cal) if x.label == 0]), abs=1e-4)
    assert model.spec.thresholds == model.heavy.spec.thresholds


def test_heavy_detector_sees_only_the_sides_the_gate_does_not_pass(parts):
    root, gate, heavy = parts
    model = _build(root, gate, heavy)
    rng = np.random.default_rng(9)
    sides = [textured(rng, SIZE) for _ in range(6)] + [scratched(rng, SIZE)[0]]
    gate_scores = [r.score for r in model.gate.inspect_sides(sides, list("abcdefg"))]
    results = model.inspect_sides(sides, list("abcdefg"))
    sent = [i for i, s in enumerate(gate_scores) if s >= model.pass_below]
    assert model.last_heavy_sides == len(sent) and 6 in sent
    heavy_alone = model.heavy.inspect_sides([sides[i] for i in sent], [str(i) for i in sent])
    for i, alone in zip(sent, heavy_alone):
        assert results[i].score == pytest.approx(alone.score)
    for i, r in enumerate(results):
        if i not in sent:
            assert r.outcome is Outcome.PASS and not r.boxes and r.heatmap.max() < 0.5
            assert r.score < model.spec.thresholds.review
            if hasattr(r, "reason"):
                assert r.reason == GATE_REASON


def test_saved_cascade_names_its_parts_relative_and_moves_with_them(parts, tmp_path: Path):
    root, gate, heavy = parts
    model = _build(root, gate, heavy)
    model.save(root / "models" / "cascade")
    assert '"gate": "../gate"' in (root / "models" / "cascade" / "model.json").read_text()
    moved = tmp_path / "moved"
    shutil.copytree(root / "models", moved)
    again = load_model(moved / "cascade")
    assert isinstance(again, CascadeModel) and again.gate_folder == (moved / "gate").resolve()
    with pytest.raises(NotRunnable):
        again.raw_outputs([textured(np.random.default_rng(0), SIZE)])


def test_a_part_replaced_since_the_cascade_was_built_is_refused(parts, tmp_path: Path):
    root, _, _ = parts
    copy = tmp_path / "models"
    shutil.copytree(root / "models", copy, ignore=shutil.ignore_patterns("cascade*", "inner"))
    _build(root, copy / "gate", copy / "heavy").save(copy / "cascade")
    assert isinstance(load_model(copy / "cascade"), CascadeModel)
    _classical(root / "good", copy / "heavy", 0.98)     # another model under the same name
    with pytest.raises(ModelFileInvalid, match="changed since the cascade was built"):
        load_model(copy / "cascade")
    shutil.rmtree(copy / "gate")
    with pytest.raises(ModelFileInvalid, match="gate model"):
        load_model(copy / "cascade")


def test_a_cascade_needs_both_parts_and_no_cascade_inside(parts):
    root, gate, heavy = parts
    with pytest.raises(DatasetInvalid, match="heavy"):
        _build(root, gate, "")
    model = _build(root, gate, heavy)
    model.save(root / "models" / "inner")
    with pytest.raises(ModelFileInvalid, match="cascade itself"):
        _build(root, root / "models" / "inner", heavy)


def test_thresholds_change_the_heavy_part_too(parts):
    root, gate, heavy = parts
    model = _build(root, gate, heavy)
    from core.scoring.calibration import Thresholds

    other = model.with_thresholds(Thresholds(0.3, 0.8))
    assert isinstance(other, CascadeModel)
    assert other.heavy.spec.thresholds == Thresholds(0.3, 0.8) == other.spec.thresholds
