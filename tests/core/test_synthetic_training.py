"""The CAM option ``synthetic``: a share of the good photos' augmented views carry a painted
defect and the label 1; view 0, the defective photos and validation stay real."""
from __future__ import annotations

import numpy as np
import pytest

from core.detectors import catalogue
from core.detectors.cam.training import _training_views
from core.progress import Progress
from core.regions.apply import FILL_VALUE
from core.regions.settings import RegionSettings
from core.regions.views import TrainingViews
from core.training import TrainConfig, scan_dataset, train_model
from tests.core.regions_helpers import can_photo_files
from tests.helpers import make_synthetic_cans


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return can_photo_files(tmp_path_factory.mktemp("drawn"), 4)


def _views(data, labels, share, seed=0):
    return _training_views(data, labels, np.arange(len(labels)), 4, share,
                           np.random.default_rng(seed), np.random.default_rng([seed, 8]))


def test_good_views_become_defective_and_nothing_else_changes(photos):
    data = TrainingViews(photos, RegionSettings(), 96)
    assert data.found == len(photos)
    labels = np.array([0, 0, 1, 1])
    views, view_labels = _views(data, labels, 1.0)
    assert view_labels[0].tolist() == [0, 0, 1, 1]                 # view 0: the real photos
    assert all(np.array_equal(views[0][i], data.plain[i]) for i in range(4))
    assert (view_labels[1:, :2] == 1).all()                        # every augmented good view
    assert (view_labels[:, 2:] == 1).all()
    plain_views, plain_labels = _views(data, labels, 0.0)
    assert np.array_equal(plain_labels, np.tile(labels, (4, 1)))
    # Share 0 is the recipe without the option: the same augmented views, the same rng stream.
    rng = np.random.default_rng(0)
    for v in range(1, 4):
        for i in range(4):
            assert np.array_equal(plain_views[v][i], data.augmented(i, rng))
    # The defect is drawn from its own generator: the defective photos' views are the same as
    # without the option, and the good ones are those views with a defect painted on.
    for v in range(1, 4):
        for i in (2, 3):
            assert np.array_equal(views[v][i], plain_views[v][i])
        for i in (0, 1):
            changed = (views[v][i] != plain_views[v][i]).any(axis=2)
            assert 0 < changed.sum() < 0.5 * changed.size


def test_a_synthetic_view_keeps_the_outside_blank(photos):
    data = TrainingViews(photos, RegionSettings(), 96)
    view = data.synthetic(0, np.random.default_rng(3), np.random.default_rng(4))
    assert view is not None and view.shape == data.plain[0].shape
    corners = np.concatenate([view[:4, :4].reshape(-1, 3), view[-4:, -4:].reshape(-1, 3)])
    assert (corners == FILL_VALUE).all()
    # Whole-photo training has no can to paint on.
    whole = TrainingViews(photos[:1], None, 96)
    assert whole.synthetic(0, np.random.default_rng(0), np.random.default_rng(0)) is None


def test_the_option_is_in_the_catalogue():
    opt = catalogue.get("cam").option("synthetic")
    assert opt.type is float and 0.0 <= opt.default <= 1.0
    assert TrainConfig().with_options({"synthetic": "0.4"}).option("synthetic") == 0.4
    with pytest.raises(catalogue.OptionInvalid):
        TrainConfig().with_options({"synthetic": 1.5})


@pytest.mark.slow
def test_training_with_synthetic_defects(tmp_path):
    data = make_synthetic_cans(tmp_path / "cans", n_good=8, n_defect=8, size=96, seed=5)
    samples = scan_dataset(data)
    fast = dict(epochs=2, batch_size=8, input_size=64, views=3, patience=2, head_warmup_epochs=1)
    model = train_model(samples, TrainConfig(**fast).with_options({"synthetic": 0.5}), Progress(), "s")
    plain = train_model(samples, TrainConfig(**fast), Progress(), "p")
    assert model.spec.extra["synthetic_views"] > 0
    assert plain.spec.extra["synthetic_views"] == 0
    # Calibration on the real validation photos only: the same photos for both models.
    assert model.spec.metrics["val_images"] == plain.spec.metrics["val_images"] == 4
    assert model.spec.trained_on["config"]["options"]["synthetic"] == 0.5
