"""``crop_window`` pads only the part of the window past the photo, and ``blank_outside`` blanks
with OpenCV (issue 12): the same pixels as the code they replaced (kept below), on the cans data
set's views and on random windows, photos and masks."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.images import load_image, resize_square
from core.model.spec import read_spec
from core.regions.apply import FILL_VALUE, blank_outside, crop_window, prepare_side
from core.regions.settings import RegionSettings

ROOT = Path(__file__).resolve().parents[2]
CANS = ROOT.parent.parent / "shared" / "datasets" / "cans"
CANS = CANS if CANS.is_dir() else Path("/work/shared/datasets/cans")


def reference_crop(image: np.ndarray, window: tuple[float, float, float, float], size: int) -> np.ndarray:
    """crop_window as it was at dcec100: the whole photo padded when the window leaves it."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in window)
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    src = image
    if pad:
        src = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    patch = src[y0 + pad:y1 + pad, x0 + pad:x1 + pad]
    if patch.shape[0] < 1 or patch.shape[1] < 1:
        raise ValueError(f"empty window {window} for a {w}x{h} image")
    return resize_square(np.ascontiguousarray(patch), size)


def reference_blank(crop: np.ndarray, region_mask: np.ndarray, outside: str) -> np.ndarray:
    """blank_outside as it was at dcec100."""
    keep = region_mask.astype(bool)[..., None]
    if outside == "blur":
        sigma = max(2.0, crop.shape[0] / 16.0)
        other = cv2.GaussianBlur(crop, (0, 0), sigma)
    else:
        other = np.full_like(crop, FILL_VALUE)
    return np.where(keep, crop, other)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.slow
def test_the_views_of_every_cans_photo():
    spec = read_spec(ROOT / "resources" / "models" / "default")
    settings = RegionSettings.from_dict(spec.preprocessing)
    assert settings is not None
    paths = sorted(CANS.glob("*/*.jpg"))
    assert len(paths) == 208
    past_the_edge = 0
    for path in paths:
        image = load_image(path)
        view = prepare_side(image, None, settings, spec.input_size)
        assert view.found and view.region_mask is not None, path.name
        x0, y0, x1, y1 = (int(round(v)) for v in view.window)
        past_the_edge += min(x0, y0) < 0 or x1 > image.shape[1] or y1 > image.shape[0]
        crop = reference_crop(image, view.window, spec.input_size)
        assert same(crop_window(image, view.window, spec.input_size), crop), path.name
        assert same(view.pixels, reference_blank(crop, view.region_mask, settings.outside)), path.name
        assert same(blank_outside(crop, view.region_mask, "blur"), reference_blank(crop, view.region_mask, "blur"))
    assert past_the_edge > 20    # (measured: 41 of the 208 windows leave the photo)


def random_window(rng: np.random.Generator, w: int, h: int) -> tuple[float, float, float, float]:
    side = rng.uniform(2, 2.5 * max(w, h))
    x0 = rng.uniform(-side, w)
    y0 = rng.uniform(-side, h)
    return (x0, y0, x0 + side, y0 + side)


def test_random_windows_photos_and_masks():
    rng = np.random.default_rng(12)
    cases = 0
    for trial in range(240):
        h, w = int(rng.integers(3, 120)), int(rng.integers(3, 120))
        kind = trial % 4
        if kind == 0:
            image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        elif kind == 1:
            image = rng.random((h, w)).astype(np.float32)            # segdec crops its masks too
        elif kind == 2:
            image = rng.integers(0, 256, (h, w), dtype=np.uint8)
        else:
            image = rng.integers(0, 256, (w, h, 3), dtype=np.uint8).transpose(1, 0, 2)   # a strided view
        size = int(rng.choice([8, 31, 64, 96]))
        window = random_window(rng, w, h)
        if trial % 10 == 0:       # exactly the photo, or inside it
            window = (0.0, 0.0, float(w), float(h)) if trial % 20 == 0 else (1.4, 0.6, w - 0.6, h - 1.4)
        try:
            expected = reference_crop(image, window, size)
        except ValueError:
            with pytest.raises(ValueError):
                crop_window(image, window, size)
            continue
        got = crop_window(image, window, size)
        assert same(got, expected), (trial, image.shape, window, size)
        cases += 1
        if image.ndim == 3:
            mask = (rng.random((size, size)) > rng.uniform(0.1, 0.9)).astype(np.uint8)
            for region in (mask, mask.astype(bool), mask * 255, np.zeros_like(mask), np.ones_like(mask)):
                for outside in ("fill", "blur"):
                    assert same(blank_outside(got, region, outside), reference_blank(got, region, outside))
    assert cases > 180


def test_windows_past_each_edge_and_corner():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    for window in [(-30, 10, 20, 60), (60, 10, 110, 60), (10, -30, 60, 20), (10, 40, 60, 90),
                   (-20, -20, 30, 30), (50, 30, 100, 80), (-50, -50, 130, 130), (-40, -40, -10, -10),
                   (100, 70, 130, 100), (-10.5, 3.5, 30.5, 44.5)]:
        assert same(crop_window(image, window, 32), reference_crop(image, window, 32)), window
