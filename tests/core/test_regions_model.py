"""Regions through a real model: same view in training and inspection, heat and boxes inside the
region, no can -> review with the reason, the recipe's modes, models from before regions."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from common.regions import SideRegion
from core.errors import ModelFileInvalid
from core.model.io import load_model
from core.regions.settings import RegionSettings
from core.regions.views import TrainingViews
from core.results import Outcome
from core.training import scan_dataset
from tests.core.regions_helpers import can_photo, iou, mask_box, tall_can_photo
from tests.helpers import synthetic_can


def _judged(outline, shape) -> np.ndarray:
    import cv2

    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.asarray(outline, np.int32).reshape(-1, 1, 2)], 1)
    return mask.astype(bool)


def test_training_sees_exactly_what_inspection_sees(tiny_model, tiny_model_dir):
    assert tiny_model.regions is not None                    # the tiny model is trained on regions
    samples = scan_dataset(tiny_model_dir.parent / "data")[::9]
    data = TrainingViews([s.source for s in samples], tiny_model.regions, tiny_model.spec.input_size)
    from core.images import load_image

    views = tiny_model.views([load_image(s.source) for s in samples])
    for plain, view in zip(data.plain, views):
        assert np.array_equal(plain, view.pixels)
    assert data.found == len(samples)
    # Augmented views are other pictures of the same size, the outside still blank.
    aug = data.augmented(0, np.random.default_rng(0))
    assert aug.shape == data.plain[0].shape and not np.array_equal(aug, data.plain[0])


def test_heatmaps_and_boxes_never_leave_the_region(tiny_model):
    rng = np.random.default_rng(5)
    images = [synthetic_can(rng, 200, defects=2)[0] for _ in range(4)]
    images.append(can_photo(3, size=240, cluttered=True)[0])
    results = tiny_model.inspect_sides(images, [f"s{i}" for i in range(5)])
    for image, res in zip(images, results):
        assert res.region is not None and not res.reason
        judged = _judged(res.region, image.shape)
        assert res.heatmap.shape == image.shape[:2]
        assert np.all(res.heatmap[~judged] == 0.0)
        ys, xs = np.nonzero(judged)
        for box in res.boxes:
            assert xs.min() <= box.x0 < box.x1 <= xs.max() + 1
            assert ys.min() <= box.y0 < box.y1 <= ys.max() + 1
        assert res.to_dict()["region"] == np.asarray(res.region).tolist()


def test_no_can_found_goes_to_review_with_the_reason(tiny_model):
    blank = np.full((160, 160, 3), 170, np.uint8)
    good = synthetic_can(np.random.default_rng(1), 160)[0]
    strict = tiny_model.with_thresholds(tiny_model.spec.thresholds.__class__(0.5, 0.5))
    res_blank, res_good = strict.inspect_sides([blank, good], ["Lid", "Bottom"])
    assert res_blank.outcome is Outcome.REVIEW
    # whatever the model's score of the whole photo: nobody saw the can, a person decides (the
    # same scores on a found can give all three outcomes)
    from core.scoring.sides import finish_sides
    scale = tiny_model.spec.score_scale
    raws = np.array([scale.raw_low - 1.0, scale.raw_threshold, scale.raw_high + 1.0])
    maps = np.zeros((3, 6, 6), np.float32)
    lost = tiny_model.views([blank] * 3)
    seen = tiny_model.views([good] * 3)
    assert not any(v.found for v in lost) and all(v.found for v in seen)
    names = ["a", "b", "c"]
    assert {r.outcome for r in finish_sides(tiny_model.spec, [blank] * 3, names, raws, maps, lost)} == {Outcome.REVIEW}
    assert [r.outcome for r in finish_sides(tiny_model.spec, [good] * 3, names, raws, maps, seen)] == [
        Outcome.PASS, Outcome.REVIEW, Outcome.REJECT]
    assert res_blank.reason.startswith("no can found") and res_blank.region is None
    assert res_blank.to_dict()["reason"] == res_blank.reason
    assert res_good.region is not None and res_good.reason == ""


def test_the_recipe_modes_are_applied(tiny_model):
    image = synthetic_can(np.random.default_rng(2), 200)[0]
    regions = [None, SideRegion("whole"), SideRegion("fixed", "rect", (0.1, 0.1, 0.6, 0.9)),
               SideRegion("fixed", "ellipse", (0.2, 0.05, 0.8, 0.95))]
    results = tiny_model.inspect_sides([image] * 4, ["a", "b", "c", "d"], regions=regions)
    auto, whole, rect, ellipse = results
    assert auto.region is not None and whole.region is None
    assert whole.heatmap.shape == image.shape[:2]
    xs = np.asarray(rect.region)[:, 0]
    # (grown by a positive margin; a negative one leaves a fixed region as drawn)
    margin = max(tiny_model.regions.margin, 0.0) * 0.8 * 200
    assert xs.min() >= 20 - margin - 2 and xs.max() <= 120 + margin + 2
    assert _judged(ellipse.region, image.shape)[100, 100] and not _judged(ellipse.region, image.shape)[5, 5]
    with pytest.raises(ValueError):
        tiny_model.inspect_sides([image], ["a"], regions=[None, None])


@pytest.fixture()
def old_model_dir(tiny_model_dir, tmp_path):
    """The tiny model as a model from before regions: the same weights, no preprocessing entry."""
    folder = tmp_path / "old"
    shutil.copytree(tiny_model_dir, folder)
    spec = json.loads((folder / "model.json").read_text())
    spec.pop("preprocessing")
    (folder / "model.json").write_text(json.dumps(spec))
    return folder


def test_a_model_from_before_regions_still_judges_the_whole_photo(old_model_dir):
    model = load_model(old_model_dir)
    assert model.regions is None
    images = [synthetic_can(np.random.default_rng(i), 150, defects=i % 2)[0] for i in range(3)]
    results = model.inspect_sides(images, ["a", "b", "c"])
    raw_scores, _ = model.raw_outputs(images)          # the path before regions existed
    for res, raw in zip(results, raw_scores):
        assert res.region is None and res.reason == ""
        assert res.score == pytest.approx(float(model.spec.score_scale.normalise(float(raw))), abs=1e-6)
    # A product may still ask such a model for the can.
    assert model.inspect_sides(images[:1], ["a"], regions=[SideRegion("auto")])[0].region is not None


def test_preprocessing_in_model_json_is_checked(tiny_model_dir, tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(tiny_model_dir, folder)
    spec = json.loads((folder / "model.json").read_text())
    spec["preprocessing"] = {"default": "auto", "outside": "paint"}
    (folder / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ModelFileInvalid, match="outside"):
        load_model(folder)


def test_stride_16_network_gives_a_finer_map_and_loads_from_its_spec(tiny_model, tmp_path):
    from core.detectors.cam.network import CamNet

    net = CamNet("efficientnet_lite0", output_stride=16).eval()
    with torch.inference_mode():
        _, maps = net(torch.zeros(1, 3, 128, 128))
    assert maps.shape == (1, 8, 8)
    spec = tiny_model.spec.replace(extra=dict(tiny_model.spec.extra, network={"output_stride": 16}))
    from core.model.model import Model

    Model(spec, net).save(tmp_path / "s16")
    again = load_model(tmp_path / "s16")
    assert again.network.output_stride == 16
    assert again.raw_outputs([np.zeros((128, 128, 3), np.uint8)])[1].shape == (1, 8, 8)


def test_region_settings_are_recorded_by_training(tiny_model):
    assert RegionSettings.from_dict(tiny_model.spec.preprocessing) == tiny_model.regions
    assert tiny_model.spec.extra["network"] == {"output_stride": 32}


def test_inspect_can_applies_the_products_recipe(tiny_model):
    from common.regions import RegionRecipe
    from core.verdict import inspect_can

    images = [synthetic_can(np.random.default_rng(i), 160)[0] for i in range(3)]
    recipe = RegionRecipe(SideRegion("auto"), {"Bottom": SideRegion("whole")})
    can = inspect_can(tiny_model, images, ["Lid", "Bottom", "Body 0°"], recipe)
    assert [s.region is None for s in can.sides] == [False, True, False]
    assert all(s.region is not None for s in inspect_can(tiny_model, images, ["Lid", "Bottom", "x"]).sides)


def test_a_model_finds_its_cans_as_it_records(tiny_model_dir, tmp_path):
    """``preprocessing.tall_reading`` in model.json: the locator's third reading at inspection
    (a tall can lit from one side is judged whole), off for a model without the key."""
    from core.detectors.cam.training import region_settings

    folder = tmp_path / "tall"
    shutil.copytree(tiny_model_dir, folder)
    spec = json.loads((folder / "model.json").read_text())
    assert "tall_reading" not in spec["preprocessing"] or spec["preprocessing"]["tall_reading"] is False
    spec["preprocessing"]["tall_reading"] = True
    (folder / "model.json").write_text(json.dumps(spec))
    image, mask = tall_can_photo(0)
    boxes = {}
    for name, model in (("off", load_model(tiny_model_dir)), ("on", load_model(folder))):
        (view,) = model.views([image])
        x0, y0 = view.region.min(axis=0)
        x1, y1 = view.region.max(axis=0) + 1
        boxes[name] = (int(x0), int(y0), int(x1), int(y1))
    assert iou(boxes["on"], mask_box(mask)) >= 0.9 > iou(boxes["off"], mask_box(mask))
    # Training records what its options say (the CAM option tall_reading).
    assert region_settings({"tall_reading": True}).tall_reading is True
    assert region_settings({}).tall_reading is RegionSettings().tall_reading
