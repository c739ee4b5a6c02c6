"""A can's verdict: seven sides in one batch, missing sides, worst side wins."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import UnreadableImage
from core.images import encode_png
from core.results import Outcome
from core.sides import DEFAULT_SIDE_NAMES
from core.verdict import inspect_can
from tests.helpers import TINY_INPUT_SIZE, synthetic_can


def _cans(n, defects, seed):
    rng = np.random.default_rng(seed)
    return [synthetic_can(rng, TINY_INPUT_SIZE, defects=defects)[0] for _ in range(n)]


def test_seven_sides_go_through_the_network_in_one_pass(tiny_model, monkeypatch):
    calls = []
    original = tiny_model.batch

    def counting(images):
        calls.append(len(images))
        return original(images)
    monkeypatch.setattr(tiny_model, "batch", counting)
    good = _cans(7, 0, seed=11)
    result = inspect_can(tiny_model, [encode_png(im) for im in good])
    assert calls == [7]
    assert [s.side for s in result.sides] == list(DEFAULT_SIDE_NAMES)
    for side, image in zip(result.sides, good):
        assert side.heatmap.shape == image.shape[:2] and side.heatmap.dtype == np.float32
        assert np.array_equal(side.image, image)
    assert result.model_name == tiny_model.spec.name and result.finished >= result.started


def test_one_bad_side_rejects_the_can(tiny_model):
    sides = _cans(6, 0, seed=21) + _cans(1, 2, seed=22)
    result = inspect_can(tiny_model, sides)
    bad = result.sides[-1]
    assert bad.label == "Anomaly" and bad.outcome == Outcome.REJECT and bad.boxes
    assert result.verdict == Outcome.REJECT
    assert result.to_dict()["verdict"] == "reject"


def test_missing_sides_and_fewer_images(tiny_model):
    good = _cans(3, 0, seed=31)
    result = inspect_can(tiny_model, [good[0], None, good[1], None, good[2]])
    assert [s.side for s in result.sides] == [DEFAULT_SIDE_NAMES[i] for i in (0, 2, 4)]
    with pytest.raises(ValueError):
        inspect_can(tiny_model, [None, None])
    with pytest.raises(ValueError):
        inspect_can(tiny_model, good * 3)


def test_unreadable_side_names_the_side(tiny_model):
    with pytest.raises(UnreadableImage) as info:
        inspect_can(tiny_model, [b"garbage"], ["Lid"])
    assert "Lid" in str(info.value)


def test_outcomes_follow_the_model_thresholds(tiny_model):
    from core.scoring.calibration import Thresholds

    # Scores are not clipped at 0 (a good side far below the scale's low point is negative); the
    # review band below needs a top score above 0, so take the first seeded can that has one.
    for seed in range(41, 81):
        sides = _cans(4, 0, seed=seed)
        plain = inspect_can(tiny_model, sides)
        scores = [s.score for s in plain.sides]
        if max(scores) > 0.01:
            break
    assert all(s.outcome == tiny_model.spec.thresholds.outcome(s.score) for s in plain.sides)
    assert max(scores) < 0.5  # good cans
    # A review band that starts at the highest good score sends that side to review.
    band = Thresholds(review=max(scores) - 1e-3, reject=0.9)
    result = inspect_can(tiny_model.with_thresholds(band), sides)
    top = int(np.argmax(scores))
    assert result.sides[top].outcome == Outcome.REVIEW and result.verdict == Outcome.REVIEW
    assert tiny_model.spec.thresholds != band  # with_thresholds leaves the original alone
