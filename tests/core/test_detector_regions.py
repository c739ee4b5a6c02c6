"""segdec and the classical check judge the can's region, through the same ``prepare_side`` as
inspection: views byte for byte, masks cut to the same window, the region recorded in model.json."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.detectors.segdec.data import Views, mask_in_view
from core.progress import Progress
from core.regions.apply import FILL_VALUE, prepare_side
from core.regions.settings import RegionSettings
from core.training import LabeledImage, TrainConfig, scan_dataset, train_model
from tests.core.regions_helpers import can_photo

SIZE = 96
RED = (255, 0, 0)


def _marked(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A can photo with a red blob on the can (and its mask), plus a marked spot on the backdrop."""
    photo, _ = can_photo(seed, size=320)
    mask = np.zeros(photo.shape[:2], np.uint8)
    cv2.circle(mask, (160, 170), 14, 1, -1)          # on the can (box 0.38-0.62 x 0.3-0.78)
    photo[mask.astype(bool)] = RED
    mask[10:30, 10:30] = 1                             # on the backdrop: outside every region
    return photo, mask


def test_a_mask_is_cut_to_the_window_and_region_of_its_view():
    photo, mask = _marked(0)
    view = prepare_side(photo, None, RegionSettings(), SIZE)
    assert view.found and view.region_mask is not None
    inside = mask_in_view(mask.astype(bool), view, SIZE)
    red = (view.pixels[..., 0] > 200) & (view.pixels[..., 1] < 60)
    assert inside.sum() > 10
    overlap = (inside & red).sum()
    assert overlap > 0.8 * inside.sum() and overlap > 0.8 * red.sum()   # the mask sits on the blob
    assert not (inside & ~view.region_mask.astype(bool)).any()          # nothing outside the region
    whole = mask_in_view(mask.astype(bool), None, SIZE)
    assert whole[:8, :8].any()                       # the whole photo keeps the backdrop's mark


def test_segdec_views_are_what_inspection_sees(tmp_path: Path):
    sources, samples = [], []
    for i in range(3):
        photo, mask = _marked(i)
        path = tmp_path / f"p{i}.png"
        cv2.imwrite(str(path), photo[..., ::-1])
        cv2.imwrite(str(tmp_path / f"m{i}.png"), mask * 255)
        sources.append(path)
        samples.append(LabeledImage(path, 1, tmp_path / f"m{i}.png" if i else None))
    settings = RegionSettings()
    data = Views(samples, SIZE, (SIZE // 8, SIZE // 8), settings)
    from core.images import load_image

    for i, path in enumerate(sources):
        assert np.array_equal(data.plain[i], prepare_side(load_image(path), None, settings, SIZE).pixels)
    assert data.masks[0] is None and data.masks[1] is not None and data.masks[1].any()
    rng = np.random.default_rng(0)
    marked = data.example(1, rng)
    assert marked.target is not None and marked.target.max() > 0
    unmarked = data.example(0, rng)
    assert unmarked.target is None and unmarked.pixels.shape == (SIZE, SIZE, 3)


def _can_set(root: Path, n: int = 6) -> Path:
    for label, sub in ((0, "good"), (1, "defect")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            photo, _ = can_photo(10 * label + i, size=160)
            if label:
                cv2.circle(photo, (80, 85), 6, (30, 20, 10), -1)   # a dark spot on the can
            cv2.imwrite(str(root / sub / f"{sub}_{i}.png"), photo[..., ::-1])
    return root


def test_the_classical_check_skips_the_blanked_outside(tmp_path: Path):
    data = _can_set(tmp_path / "data")
    model = train_model(scan_dataset(data), TrainConfig(detector="classical", input_size=SIZE),
                        Progress(), "cl")
    assert model.spec.preprocessing == RegionSettings().to_dict()
    assert model.spec.extra["classical"]["fill"] == FILL_VALUE
    photo, _ = can_photo(3, size=160)
    side = model.inspect_sides([photo], ["a"])[0]
    assert side.region is not None and side.region.shape[0] >= 3    # judged on the can
    whole = train_model(scan_dataset(data), TrainConfig(detector="classical", input_size=SIZE)
                        .with_options({"region": "whole"}), Progress(), "cl-whole")
    assert whole.spec.preprocessing == {} and whole.spec.extra["classical"]["fill"] is None


@pytest.mark.slow
def test_segdec_trains_on_regions_and_inspection_applies_them(tmp_path: Path):
    data = _can_set(tmp_path / "data")
    config = TrainConfig(detector="segdec", input_size=SIZE, epochs=2, batch_size=4, seed=0)
    model = train_model(scan_dataset(data), config, Progress(), "sd")
    assert model.spec.preprocessing == RegionSettings().to_dict()
    assert model.spec.extra["regions_found"] == "12 of 12"
    photo, _ = can_photo(4, size=160)
    side = model.inspect_sides([photo], ["a"])[0]
    assert side.region is not None and not side.reason
    ys, xs = np.nonzero(side.heatmap)
    inside = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(inside, [side.region.reshape(-1, 1, 2)], 1)
    assert inside[ys, xs].all()                     # no heat outside the judged region
