"""Model folders: round trip, atomic replacement, and ModelFileInvalid for every kind of damage."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.errors import ModelFileInvalid
from core.model.io import load_model
from core.model.spec import FORMAT_VERSION, SPEC_FILE, WEIGHTS_FILE, read_spec
from core.scoring.calibration import Thresholds


@pytest.fixture()
def model_copy(tiny_model_dir, tmp_path):
    target = tmp_path / "m"
    shutil.copytree(tiny_model_dir, target)
    return target


def _images(n=3, size=64):
    rng = np.random.default_rng(5)
    return [rng.integers(0, 255, (size, size + 8 * i, 3), dtype=np.uint8) for i in range(n)]


def test_spec_holds_everything_needed(tiny_model_dir):
    spec = read_spec(tiny_model_dir)
    data = json.loads((tiny_model_dir / SPEC_FILE).read_text())
    assert data["format_version"] == FORMAT_VERSION == spec.format_version
    assert spec.kind == "cam" and spec.backbone == "efficientnet_lite0"
    assert spec.class_names == ("Good", "Anomaly") and spec.input_size == 128
    assert set(spec.metrics) >= {"val_auroc", "val_accuracy", "val_loss"}
    assert spec.trained_on["n_good"] == 24 and spec.trained_on["seed"] == 0
    assert "rule" in spec.extra["score_calibration"] and "heatmap_rule" in spec.extra


def test_round_trip_gives_the_same_results(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "again")
    again = load_model(tmp_path / "again")
    imgs = _images()
    s1, m1 = tiny_model.raw_outputs(imgs)
    s2, m2 = again.raw_outputs(imgs)
    np.testing.assert_allclose(s1, s2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m1, m2, rtol=1e-5, atol=1e-5)
    assert again.spec == tiny_model.spec


def test_half_precision_weights_load_and_agree(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "half", half=True)
    full_size = sum(p.stat().st_size for p in (tmp_path / "half").iterdir())
    half = load_model(tmp_path / "half")
    s1, _ = tiny_model.raw_outputs(_images())
    s2, _ = half.raw_outputs(_images())
    spread = tiny_model.spec.score_scale.raw_high - tiny_model.spec.score_scale.raw_low
    assert np.abs(s1 - s2).max() < 0.02 * spread
    tiny_model.save(tmp_path / "full")
    assert full_size < 0.6 * sum(p.stat().st_size for p in (tmp_path / "full").iterdir())


def test_save_replaces_an_existing_model_atomically(tiny_model, tmp_path):
    target = tmp_path / "models" / "m"
    tiny_model.save(target)
    tiny_model.with_thresholds(Thresholds(0.3, 0.8)).save(target)
    assert read_spec(target).thresholds == Thresholds(0.3, 0.8)
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"]  # no temp or old folders left
    assert sorted(p.name for p in target.iterdir()) == [SPEC_FILE, WEIGHTS_FILE]


def _invalid(folder) -> str:
    with pytest.raises(ModelFileInvalid) as info:
        load_model(folder)
    assert info.value.path
    return info.value.reason


def test_missing_files(model_copy, tmp_path):
    assert "does not exist" in _invalid(tmp_path / "nowhere")
    (model_copy / WEIGHTS_FILE).unlink()
    assert "missing" in _invalid(model_copy)
    (model_copy / SPEC_FILE).unlink()
    assert "missing" in _invalid(model_copy)


def test_truncated_or_corrupt_weights(model_copy):
    weights = model_copy / WEIGHTS_FILE
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    assert "truncated" in _invalid(model_copy)
    weights.write_bytes(b"\x00\x01")
    assert "damaged" in _invalid(model_copy)


def _edit_spec(folder, **changes):
    path = folder / SPEC_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_bad_json_and_versions(model_copy):
    _edit_spec(model_copy, format_version=FORMAT_VERSION + 1)
    assert "newer" in _invalid(model_copy)
    _edit_spec(model_copy, format_version=FORMAT_VERSION, score_scale={"raw_low": 1, "raw_threshold": 0,
                                                                       "raw_high": 2})
    assert "scale" in _invalid(model_copy)
    (model_copy / SPEC_FILE).write_text("{not json")
    assert "not valid JSON" in _invalid(model_copy)


def test_unknown_kind_and_mismatched_weights(model_copy):
    _edit_spec(model_copy, kind="hologram")
    assert "unknown detector kind" in _invalid(model_copy)
    _edit_spec(model_copy, kind="cam", backbone="vgg16")
    assert "do not match" in _invalid(model_copy)


def test_wrong_tensor_shape(model_copy, tiny_model):
    from safetensors.torch import save_file

    state = {k: v.clone() for k, v in tiny_model.network.state_dict().items()}
    state["head.weight"] = state["head.weight"][:, :10].contiguous()
    save_file(state, str(model_copy / WEIGHTS_FILE))
    assert "shape" in _invalid(model_copy)


def test_the_shipped_default_model_loads_and_is_small():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"
    model = load_model(folder)
    assert model.spec.kind == "cam" and model.spec.backbone == "efficientnet_lite0"
    assert model.spec.metrics["val_auroc"] >= 0.9
    assert sum(p.stat().st_size for p in folder.iterdir()) < 20 * 1024 * 1024
