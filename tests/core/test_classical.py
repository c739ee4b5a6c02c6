"""The classical check: numpy alone, a floor from a few good images, candidates on drawn scratches."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.detectors import catalogue
from core.detectors.classical.check import CheckParams, check_views, deviation, raw_outputs
from core.errors import ModelFileInvalid
from core.evaluation.evaluate import evaluate_model
from core.model.io import load_model
from core.model.spec import SPEC_FILE
from core.progress import Progress
from core.training import TrainConfig, scan_dataset, train_model
from tests.scratches import make_scratch_set, scratched, textured

SIZE = 96


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """Set up from eight good images only: no defect, no training."""
    data = make_scratch_set(tmp_path_factory.mktemp("cl") / "d", n_good=8, n_defect=0, masks=0,
                            size=SIZE, seed=1)
    return train_model(scan_dataset(data), TrainConfig(detector="classical", input_size=SIZE),
                       Progress(), "classical")


def test_catalogue_declares_a_numpy_runtime():
    entry = catalogue.get("classical")
    assert entry.runtime == "numpy" and not entry.needs_defects
    assert catalogue.resolve(entry.numpy_outputs) is raw_outputs


def test_a_scratch_stands_out_of_its_background_and_a_plain_surface_does_not():
    rng = np.random.default_rng(0)
    img, mask = scratched(rng, SIZE)
    dev, inside = deviation(img, CheckParams())
    assert inside.all()
    assert dev[mask > 0].mean() > 3 * dev[mask == 0].mean()
    flat = np.full((SIZE, SIZE, 3), 120, np.uint8)
    scores, maps = check_views(np.stack([flat]), CheckParams(floor=5.0))
    assert scores[0] == 0.0 and not maps.any()


def test_blanked_outside_of_a_region_makes_no_candidates():
    rng = np.random.default_rng(1)
    view = textured(rng, SIZE)
    view[:, : SIZE // 3] = 128            # what an inspection region leaves outside the can
    params = CheckParams(floor=30.0, fill=128)
    _, inside = deviation(view, params)
    assert not inside[:, : SIZE // 3].any() and inside[:, SIZE // 2:].all()
    _, maps = check_views(np.stack([view]), params)
    assert not maps[0, :, : SIZE // 3 + 2].any()


def test_parameters_from_model_json_are_checked():
    with pytest.raises(ValueError, match="floor"):
        CheckParams.from_dict({"floor": -1})
    with pytest.raises(ValueError, match="fill"):
        CheckParams.from_dict({"fill": 300})


def test_set_up_from_good_images_in_a_moment_and_finds_scratches(model, tmp_path: Path):
    spec = model.spec
    assert spec.kind == "classical" and spec.trained_on["calibration_defect"] == 0
    assert spec.extra["classical"]["floor"] > 0
    data = make_scratch_set(tmp_path, n_good=12, n_defect=12, masks=12, size=SIZE, seed=4)
    report = evaluate_model(model, data, Progress())
    assert report.image_auroc > 0.9
    assert report.box_hit_rate > 0.5
    assert report.decision.fp < report.n_good


def test_numpy_hook_gives_what_the_torch_path_gives(model):
    rng = np.random.default_rng(2)
    images = [scratched(rng, SIZE)[0], textured(rng, SIZE)]
    scores, maps = model.raw_outputs(images)
    views = np.stack([cv2.resize(i, (SIZE, SIZE)) for i in images])
    np_scores, np_maps = raw_outputs(model.spec, views)
    np.testing.assert_allclose(scores, np_scores, rtol=1e-5)
    np.testing.assert_allclose(maps, np_maps, rtol=1e-5)


def test_saves_without_weights_and_loads_checked(model, tmp_path: Path):
    folder = tmp_path / "m"
    model.save(folder)
    again = load_model(folder)
    assert again.spec.extra["classical"] == model.spec.extra["classical"]
    text = (folder / SPEC_FILE).read_text().replace('"min_area": 0.0005', '"min_area": 7')
    (folder / SPEC_FILE).write_text(text)
    with pytest.raises(ModelFileInvalid, match="min_area"):
        load_model(folder)


def test_one_odd_good_photo_does_not_lift_the_floor(tmp_path: Path):
    """The floor is the median of the good photos' own quantiles: a photo with a bright stain among
    the good ones leaves it where the ordinary surface puts it (a pooled quantile would jump)."""
    data = make_scratch_set(tmp_path / "d", n_good=12, n_defect=0, masks=0, size=SIZE, seed=3)
    config = TrainConfig(detector="classical", input_size=SIZE, val_fraction=0.2)
    before = train_model(scan_dataset(data), config, Progress(), "a").spec.extra["classical"]["floor"]
    for name in sorted((data / "good").iterdir())[:2]:
        odd = cv2.imread(str(name))
        odd[20:60, 20:60] = 255                     # a glare stain covering a sixth of the photo
        cv2.imwrite(str(name), odd)
    after = train_model(scan_dataset(data), config, Progress(), "b").spec.extra["classical"]["floor"]
    assert after < 1.3 * before
