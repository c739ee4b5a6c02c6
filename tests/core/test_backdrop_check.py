"""The backdrop check: repaint outside the can, count changed verdicts."""
from __future__ import annotations

import json
import shutil

import numpy as np

from core.evaluation.backdrop import KINDS, backdrop_check, backdrops_for
from core.model.io import load_model
from core.training import scan_dataset


def test_a_model_that_judges_the_region_keeps_its_verdicts(tiny_model, tiny_model_dir, tmp_path):
    samples = scan_dataset(tiny_model_dir.parent / "data")[:30:3]     # good images come first
    report = backdrop_check(tiny_model, samples, seed=1)
    good = sum(s.label == 0 for s in samples)
    assert report.images + report.skipped == good and report.images >= good - 1
    assert report.repaints == report.images * len(KINDS)
    assert report.changed == 0, report.summary()
    d = report.to_dict()
    assert d["verdicts_changed"] == 0 and set(d["changed_per_backdrop"]) == set(KINDS)
    # The same weights judging the whole photo feel the backdrop far more.
    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    spec = json.loads((old / "model.json").read_text())
    spec.pop("preprocessing")
    (old / "model.json").write_text(json.dumps(spec))
    whole = backdrop_check(load_model(old), samples, seed=1)
    # (How many verdicts a whole-photo tiny model changes depends on where its scores fall; the
    # shift of the scores does not.)
    assert whole.mean_score_shift > report.mean_score_shift


def test_backdrops_have_the_image_size_and_differ():
    rng = np.random.default_rng(0)
    image = np.zeros((90, 120, 3), np.uint8)
    walls = [np.full((40, 40, 3), v, np.uint8) for v in (10, 200, 90)]
    out = backdrops_for(image, 0, walls, rng)
    assert list(out) == list(KINDS)
    assert all(b.shape == image.shape and b.dtype == np.uint8 for b in out.values())
    assert len({b.tobytes() for b in out.values()}) == len(KINDS)


def test_one_photo_at_a_time_is_held(tiny_model, tiny_model_dir, monkeypatch):
    """A plant's folder may hold thousands of large photos: the check reads each photo when it
    needs it (twice: once for its wall, once to judge it) and lets it go before the next."""
    import gc
    import weakref

    import core.images

    samples = scan_dataset(tiny_model_dir.parent / "data")[:30:3]
    good = sum(s.label == 0 for s in samples)
    real = core.images.load_image
    alive: list = []
    most = [0]

    def counting(source, *args, **kwargs):
        gc.collect()
        most[0] = max(most[0], sum(r() is not None for r in alive))
        image = real(source, *args, **kwargs)
        alive.append(weakref.ref(image))
        return image

    monkeypatch.setattr(core.images, "load_image", counting)
    report = backdrop_check(tiny_model, samples, seed=1)
    assert len(alive) == 2 * good                 # each good photo read twice, nothing else
    assert most[0] == 0, most[0]                  # ... and none still held when the next is read
    assert report.images + report.skipped == good
