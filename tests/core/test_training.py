"""Training: dataset scanning, the stratified split, determinism, progress and cancellation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import Cancelled, DatasetInvalid
from core.progress import Progress
from core.training import LabeledImage, TrainConfig, scan_dataset, stratified_split, train_model
from tests.helpers import make_synthetic_cans

FAST = dict(epochs=2, batch_size=8, input_size=64, views=2, patience=2, head_warmup_epochs=1)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    return make_synthetic_cans(tmp_path_factory.mktemp("cans"), n_good=8, n_defect=8, size=64, seed=3)


def test_scan_dataset_labels_by_folder(small_data):
    samples = scan_dataset(small_data)
    assert len(samples) == 16 and sum(s.label for s in samples) == 8
    assert all("good" in str(s.source) for s in samples if s.label == 0)


def test_scan_dataset_refuses_missing_and_empty_folders(tmp_path):
    with pytest.raises(DatasetInvalid, match="does not exist"):
        scan_dataset(tmp_path / "nope")
    (tmp_path / "good").mkdir()
    with pytest.raises(DatasetInvalid, match="good/ and defect/"):
        scan_dataset(tmp_path)


def test_stratified_split_keeps_both_classes_on_both_sides():
    labels = np.array([0] * 10 + [1] * 30)
    train, val = stratified_split(labels, 0.25, seed=1)
    assert set(train).isdisjoint(val) and len(train) + len(val) == 40
    assert (labels[val] == 0).sum() == 2 or (labels[val] == 0).sum() == 3
    assert (labels[val] == 1).sum() in (7, 8)
    again = stratified_split(labels, 0.25, seed=1)
    assert np.array_equal(again[1], val)
    _, tiny_val = stratified_split(np.array([0, 0, 1, 1]), 0.01, seed=0)
    assert sorted(np.array([0, 0, 1, 1])[tiny_val]) == [0, 1]


@pytest.mark.slow
def test_training_is_deterministic_with_a_seed(small_data):
    samples = scan_dataset(small_data)
    a = train_model(samples, TrainConfig(**FAST, seed=7), Progress(), "a")
    b = train_model(samples, TrainConfig(**FAST, seed=7), Progress(), "b")
    # Same split, same augmented views, same batches; multi-threaded CPU kernels may still sum in
    # another order, so weights agree to float rounding rather than bit for bit.
    for (k, va), (_, vb) in zip(a.network.state_dict().items(), b.network.state_dict().items()):
        assert torch.allclose(va.float(), vb.float(), rtol=1e-4, atol=1e-5), k
    assert a.spec.trained_on == b.spec.trained_on
    assert a.spec.score_scale.raw_threshold == pytest.approx(b.spec.score_scale.raw_threshold, rel=1e-3)
    c = train_model(samples, TrainConfig(**FAST, seed=8), Progress(), "c")
    assert not all(torch.allclose(va, vc, rtol=1e-4, atol=1e-5) for va, vc in
                   zip(a.network.state_dict().values(), c.network.state_dict().values()))


@pytest.mark.slow
def test_progress_every_batch_and_cancel(small_data):
    samples = scan_dataset(small_data)
    calls = []
    train_model(samples, TrainConfig(**FAST), Progress(lambda d, t, m: calls.append((d, t, m))), "p")
    epoch_msgs = [c for c in calls if c[2].startswith("epoch")]
    # 12 training images, batch 8 -> 2 batches per epoch, 2 epochs (unless stopped early).
    assert len(epoch_msgs) in (2, 4)
    assert all(d <= t for d, t, _ in calls) and calls[-1][0] == calls[-1][1]
    assert len({t for _, t, _ in calls}) == 1                       # one scale, no jumping back
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))

    progress = Progress()
    seen = []

    def cancel_on_first_epoch(done, total, message):
        seen.append(message)
        if message.startswith("epoch"):
            progress.cancel()
    progress = Progress(cancel_on_first_epoch)
    with pytest.raises(Cancelled):
        train_model(samples, TrainConfig(**FAST), progress, "c")
    assert sum(m.startswith("epoch") for m in seen) == 1  # stopped at the next batch


def test_cam_needs_both_classes(small_data):
    goods = [s for s in scan_dataset(small_data) if s.label == 0]
    with pytest.raises(DatasetInvalid, match="needs at least"):
        train_model(goods, TrainConfig(**FAST), Progress(), "x")
    with pytest.raises(DatasetInvalid, match="labels must be"):
        train_model([LabeledImage(goods[0].source, 2)], TrainConfig(**FAST), Progress(), "x")


@pytest.mark.slow
def test_samples_from_bytes_train_too(small_data):
    samples = [LabeledImage(s.source.read_bytes(), s.label) for s in scan_dataset(small_data)]
    model = train_model(samples, TrainConfig(**FAST), Progress(), "from-gallery")
    assert model.spec.trained_on["n_good"] == 8 and model.spec.name == "from-gallery"
    m = model.spec.metrics   # the validation AUROC says what it rests on
    assert (m["val_good"], m["val_defect"]) == (2, 2) and len(m["val_auroc_interval"]) == 2
