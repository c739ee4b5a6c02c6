"""The CAM classifier end to end on synthetic cans: maps, fixed heatmap scale, boxes on the defect."""
from __future__ import annotations

import numpy as np
import torch

from core.detectors.cam.network import CamNet
from tests.helpers import TINY_INPUT_SIZE, synthetic_can


def test_map_mean_is_the_logit_difference():
    torch.manual_seed(0)
    net = CamNet("efficientnet_lite0", pretrained=False).eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.inference_mode():
        scores, maps = net(x)
        logits = net.logits(net.features(x))
    assert maps.shape == (2, 3, 3)
    torch.testing.assert_close(scores, logits[:, 1] - logits[:, 0], rtol=1e-4, atol=1e-4)


def _fresh_cans(n, defects, seed):
    rng = np.random.default_rng(seed)
    return [synthetic_can(rng, TINY_INPUT_SIZE * 2, defects=defects) for _ in range(n)]


def test_good_heatmaps_stay_cold_and_defects_glow_on_one_fixed_scale(tiny_model):
    good = _fresh_cans(6, 0, seed=100)
    bad = _fresh_cans(6, 1, seed=200)
    results = tiny_model.inspect_sides([im for im, _ in good + bad], [str(i) for i in range(12)])
    good_peaks = [float(r.heatmap.max()) for r in results[:6]]
    bad_peaks = [float(r.heatmap.max()) for r in results[6:]]
    # No per-image min-max: a good can's hottest pixel stays well below the box level.
    assert np.median(good_peaks) < 0.5 < np.median(bad_peaks)
    assert sum(len(r.boxes) for r in results[:6]) <= 1
    assert sum(r.label == "Anomaly" for r in results[6:]) >= 5
    assert sum(r.label == "Good" for r in results[:6]) >= 5


def test_the_heatmap_is_hotter_on_the_defect_than_elsewhere(tiny_model):
    bad = _fresh_cans(8, 1, seed=300)
    results = tiny_model.inspect_sides([im for im, _ in bad], [str(i) for i in range(8)])
    ratios = []
    for (_, mask), result in zip(bad, results):
        # The CAM grid is only 4x4 at this input size, so compare means rather than peak pixels.
        ratios.append(result.heatmap[mask > 0].mean() / max(result.heatmap[mask == 0].mean(), 1e-6))
    assert sum(r > 1.0 for r in ratios) >= 7
    assert np.median(ratios) > 1.3
