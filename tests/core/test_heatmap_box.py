"""Placing a heatmap only inside the judged region's bounding box gives the values the whole-photo
placement gave (issue 12): real cans photos and the default model's regions, then edge cases."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from common.regions import SideRegion
from core.images import load_image
from core.model.spec import read_spec
from core.regions.apply import SideView, heatmap_in_image, prepare_side
from core.regions.settings import RegionSettings
from core.results import HEATMAP_PNG_MAX

ROOT = Path(__file__).resolve().parents[2]
CANS = Path("/work/shared/datasets/cans")
CANS = ROOT.parent.parent / "shared" / "datasets" / "cans" if not CANS.is_dir() else CANS


def whole_photo_reference(small, view, width, height, ceiling=HEATMAP_PNG_MAX):
    """``heatmap_in_image`` and ``finish_sides``' clip as they were before issue 12."""
    small = np.asarray(small, np.float32)
    sh, sw = small.shape
    x0, y0, x1, y1 = view.window
    sx, sy = sw / (x1 - x0), sh / (y1 - y0)
    inverse = np.array([[sx, 0.0, (0.5 - x0) * sx - 0.5], [0.0, sy, (0.5 - y0) * sy - 0.5]])
    heat = cv2.warpAffine(small, inverse, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    np.clip(heat, None, ceiling, out=heat)
    if view.region is not None:
        inside = np.zeros((height, width), np.uint8)
        cv2.fillPoly(inside, [view.region.reshape(-1, 1, 2)], 1)
        heat *= inside
    np.clip(heat, 0.0, HEATMAP_PNG_MAX, out=heat)
    return heat


def check(small, view, width, height):
    new = heatmap_in_image(small, view, width, height, ceiling=HEATMAP_PNG_MAX, floor=0.0)
    old = whole_photo_reference(small, view, width, height)
    assert new.dtype == np.float32 and new.shape == (height, width)
    assert np.array_equal(new, old)   # equal values (-0.0 == 0.0: the old mask left -0.0 where the map was negative)
    return new


def _maps(rng, shape, n):
    """Maps across the whole range: negative, inside [0, ceiling], above the ceiling."""
    return [rng.uniform(-0.5, 1.5, shape).astype(np.float32) * HEATMAP_PNG_MAX for _ in range(n)]


def test_real_cans_photos_with_the_default_models_regions():
    spec = read_spec(ROOT / "resources" / "models" / "default")
    settings = RegionSettings.from_dict(spec.preprocessing)
    assert settings is not None
    paths = sorted(p for p in CANS.rglob("*.jpg"))
    assert len(paths) >= 200
    rng = np.random.default_rng(0)
    found = 0
    for path in paths:
        image = load_image(path)
        view = prepare_side(image, None, settings, spec.input_size)
        found += view.found
        h, w = image.shape[:2]
        cells = spec.input_size // 32
        for small in _maps(rng, (cells, cells), 2):
            heat = check(small, view, w, h)
            if view.region is not None:
                assert heat.any()
    assert found > 150


def test_edge_cases_window_past_the_edge_whole_photo_no_can():
    rng = np.random.default_rng(1)
    image = load_image(sorted(CANS.rglob("*.jpg"))[0])
    h, w = image.shape[:2]
    corner = SideRegion("fixed", shape="ellipse", box=(0.0, 0.0, 0.3, 0.4))   # window leaves the photo
    for region in (corner, SideRegion("fixed", box=(0.55, 0.5, 1.0, 1.0)), SideRegion("whole")):
        view = prepare_side(image, region, RegionSettings(), 192)
        for small in _maps(rng, (6, 6), 3):
            check(small, view, w, h)
    blank = np.full((h, w, 3), 120, np.uint8)                  # no can: the whole photo, found False
    view = prepare_side(blank, None, RegionSettings(), 192)
    assert not view.found and view.region is None
    check(_maps(rng, (6, 6), 1)[0], view, w, h)


def _random_view(rng, w, h):
    side = rng.uniform(0.2, 1.6) * max(w, h)
    cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
    window = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    if rng.random() < 0.15:
        return SideView(np.zeros((1, 1, 3), np.uint8), window, None)
    centre = (int(rng.uniform(-0.1, 1.1) * w), int(rng.uniform(-0.1, 1.1) * h))
    axes = (int(rng.uniform(1, 0.7 * w)), int(rng.uniform(1, 0.7 * h)))
    outline = cv2.ellipse2Poly(centre, axes, int(rng.integers(0, 90)), 0, 360, 5).astype(np.int32)
    return SideView(np.zeros((1, 1, 3), np.uint8), window, outline)


@pytest.mark.parametrize("seed", range(4))
def test_random_photos_windows_and_regions(seed):
    """Odd photo sizes (narrower than a vector step, too), windows anywhere, regions partly or
    wholly outside the photo, maps of any size."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(80):
        w, h = int(rng.integers(8, 900)), int(rng.integers(8, 900))
        view = _random_view(rng, w, h)
        small = _maps(rng, (int(rng.integers(1, 20)), int(rng.integers(1, 20))), 1)[0]
        check(small, view, w, h)
    empty = SideView(np.zeros((1, 1, 3), np.uint8), (0.0, 0.0, 50.0, 50.0), np.zeros((0, 2), np.int32))
    assert not heatmap_in_image(np.ones((4, 4), np.float32), empty, 50, 40).any()
