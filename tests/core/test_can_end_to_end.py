"""A can end to end gives what it gave before issue 12's speed work: the sides decoded inside the
per-side tasks, the fast JPEG route, the heatmap placed in the region's box only (issue 12)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import UnreadableImage
from core.images import encode_png
from core.model.io import load_model
from core.results import Outcome
from core.scoring.sides import _bounds, boxes_on_grid
from core.sides import DEFAULT_SIDE_NAMES
from core.verdict import inspect_can
from tests.core.test_fast_decode import CANS, reference
from tests.core.test_heatmap_box import whole_photo_reference
from tests.helpers import TINY_INPUT_SIZE, synthetic_can

DEFAULT = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"


@pytest.fixture(scope="module")
def default_model():
    return load_model(DEFAULT)


def test_a_can_of_real_photos_is_inspected_as_before(default_model):
    model = default_model
    paths = sorted((CANS / "defect").glob("*.jpg"))[:4] + sorted((CANS / "good").glob("*.jpg"))[:3]
    sources = [paths[0], str(paths[1])] + [p.read_bytes() for p in paths[2:]]
    names = list(DEFAULT_SIDE_NAMES)
    result = inspect_can(model, sources, names)
    # The path before: Pillow decoding one side after another, then the whole-photo heatmap.
    images = [reference(p.read_bytes()) for p in paths]
    views = model.views(images)
    raw_scores, raw_maps = model.raw_outputs([v.pixels for v in views])
    small = np.asarray(model.spec.heatmap_scale.normalise(raw_maps), np.float32)
    assert [s.side for s in result.sides] == names
    for side, image, view, raw, heat_small in zip(result.sides, images, views, raw_scores, small):
        h, w = image.shape[:2]
        assert np.array_equal(side.image, image)
        assert side.score == float(model.spec.score_scale.normalise(float(raw)))
        expected = model.spec.thresholds.outcome(side.score)
        if not view.found and expected is Outcome.PASS:
            expected = Outcome.REVIEW
        assert side.outcome is expected and side.reason == view.reason
        heat = whole_photo_reference(heat_small, view, w, h)
        assert np.array_equal(side.heatmap, heat)
        assert side.boxes == boxes_on_grid(heat, bounds=_bounds(view.region, w, h))
        assert (side.region is None) == (view.region is None)
        assert side.region is None or np.array_equal(side.region, view.region)
    stages = model.last_stages
    assert set(stages) == {"decode", "regions", "views", "network", "post"}
    assert all(v > 0 for v in stages.values())


def test_the_first_unreadable_side_in_order_is_named(tiny_model):
    rng = np.random.default_rng(3)
    good = [encode_png(synthetic_can(rng, TINY_INPUT_SIZE, defects=0)[0]) for _ in range(4)]
    names = list(DEFAULT_SIDE_NAMES[:6])
    with pytest.raises(UnreadableImage) as info:
        inspect_can(tiny_model, [good[0], good[1], b"garbage", good[2], b"junk", good[3]], names)
    assert info.value.source == f"side {names[2]}" and "not an image" in info.value.reason
    with pytest.raises(UnreadableImage) as info:
        inspect_can(tiny_model, [good[0], Path("/nonexistent/side.jpg"), b"junk"], names[:3])
    assert info.value.source == "/nonexistent/side.jpg"
    # A can with every side readable, decoded in the tasks, equals the sides decoded beforehand.
    arrays = [reference(g) for g in good]
    a = inspect_can(tiny_model, good, names[:4])
    b = tiny_model.inspect_sides(arrays, names[:4])
    for x, y in zip(a.sides, b):
        assert x.score == y.score and np.array_equal(x.heatmap, y.heatmap) and x.boxes == y.boxes
