"""The CAM option ``members``: members fine-tuned with their own seeds, averaged into one network."""
from __future__ import annotations

import pytest
import torch

from core.detectors.cam import training as cam_training
from core.detectors.cam.training import average_states, member_seed
from core.detectors.catalogue import OptionInvalid
from core.progress import Progress
from core.training import TrainConfig, scan_dataset, train_model
from tests.helpers import make_synthetic_cans

FAST = dict(epochs=2, batch_size=8, input_size=64, views=2, patience=2, head_warmup_epochs=1)


def test_states_are_averaged_tensor_by_tensor_and_counters_kept():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(5)}
    out = average_states([a, b])
    assert torch.equal(out["w"], torch.tensor([2.0, 4.0]))
    assert out["n"].item() == 3 and out["n"].dtype == a["n"].dtype
    assert average_states([a]) is a          # one member: its own state, untouched


def test_member_zero_has_the_models_seed_and_the_others_their_own():
    assert member_seed(7, 0) == 7
    seeds = {member_seed(s, m) for s in range(4) for m in range(1, 6)}
    assert len(seeds) == 20 and not seeds & set(range(4))


def test_the_catalogue_bounds_members():
    with pytest.raises(OptionInvalid):
        TrainConfig().with_options({"members": 0})
    assert TrainConfig().with_options({"members": 3}).option("members") == 3
    assert TrainConfig().option("members") == 1


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    return make_synthetic_cans(tmp_path_factory.mktemp("cans"), n_good=8, n_defect=8, size=64, seed=3)


@pytest.mark.slow
def test_the_network_is_the_average_of_its_members(small_data, monkeypatch):
    seen: list[list[dict[str, torch.Tensor]]] = []

    def recording(states):
        seen.append([{k: v.clone() for k, v in s.items()} for s in states])
        return average_states(states)

    monkeypatch.setattr(cam_training, "average_states", recording)
    samples = scan_dataset(small_data)
    calls = []
    model = train_model(samples, TrainConfig(**FAST, seed=7).with_options({"members": 3}),
                        Progress(lambda d, t, m: calls.append((d, t, m))), "soup")
    (states,) = seen
    assert len(states) == 3
    head = [k for k in states[0] if k.startswith("head.") and k.endswith("weight")]
    assert head and not torch.equal(states[0][head[0]], states[1][head[0]])  # own seeds, own heads
    for key, value in model.network.state_dict().items():
        if value.is_floating_point():
            mean = torch.stack([s[key] for s in states]).mean(dim=0)
            assert torch.allclose(value, mean, atol=1e-6), key
    members = model.spec.metrics["members"]
    assert [m["seed"] for m in members] == [member_seed(7, m) for m in range(3)]
    assert all(1 <= m["best_epoch"] <= m["epochs_run"] <= 2 for m in members)
    # one progress scale for every member's batches, never jumping back
    assert any(m.startswith("member 3/3, epoch") for _, _, m in calls)
    assert len({t for _, t, _ in calls}) == 1 and calls[-1][0] == calls[-1][1]
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))


@pytest.mark.slow
def test_one_member_is_the_model_of_before(small_data, monkeypatch):
    samples = scan_dataset(small_data)
    plain = train_model(samples, TrainConfig(**FAST, seed=5), Progress(), "plain")
    one = train_model(samples, TrainConfig(**FAST, seed=5).with_options({"members": 1}), Progress(), "one")
    assert "members" not in plain.spec.metrics and "members" not in one.spec.metrics
    for (k, va), (_, vb) in zip(plain.network.state_dict().items(), one.network.state_dict().items()):
        assert torch.allclose(va.float(), vb.float(), rtol=1e-4, atol=1e-5), k
    assert plain.spec.score_scale.raw_threshold == pytest.approx(one.spec.score_scale.raw_threshold, rel=1e-3)
