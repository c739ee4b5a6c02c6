"""gui.inference: the long-lived worker inspects a can with a real (tiny) model, reports per-side
progress on the GUI thread, returns failures as messages and stays usable after them."""
from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from core.errors import ModelFileInvalid, UnreadableImage
from core.results import CanResult, Outcome
from core.scoring.calibration import Thresholds
from core.sides import DEFAULT_SIDE_NAMES
from gui.inference import InferenceService
from tests.helpers import synthetic_can


def seven_cans(defect_side: int | None = None, size: int = 128) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [synthetic_can(rng, size, defects=2 if i == defect_side else 0)[0] for i in range(7)]


def _inspect(qtbot, inference, folder, images, thresholds=None, timeout=60000):
    rid = inference.new_request_id()
    progress: list = []
    inference.side_progress.connect(
        lambda r, d, t, s: progress.append((r, d, t, s, threading.current_thread())))
    with qtbot.waitSignal(_either(inference), timeout=timeout) as blocker:
        inference.inspect(rid, folder, images, DEFAULT_SIDE_NAMES, thresholds)
    kind, got_rid, payload = blocker.args
    assert got_rid == rid
    return kind, payload, [p for p in progress if p[0] == rid]


def _either(inference):
    """One signal for 'inspected or failed', so a failure does not look like a timeout."""
    from PyQt5.QtCore import QObject, pyqtSignal

    class Either(QObject):
        done = pyqtSignal(str, int, object)

    either = Either(inference)
    inference.inspected.connect(lambda r, res: either.done.emit("inspected", r, res))
    inference.failed.connect(lambda r, exc: either.done.emit("failed", r, exc))
    return either.done


def test_inspects_a_can_with_a_real_model_and_reports_each_stage(qtbot, inference, tiny_model):
    kind, result, progress = _inspect(qtbot, inference, tiny_model, seven_cans(defect_side=3))
    assert kind == "inspected", result
    assert isinstance(result, CanResult)
    assert [s.side for s in result.sides] == list(DEFAULT_SIDE_NAMES)
    for side in result.sides:
        assert side.heatmap.shape == side.image.shape[:2]
        assert np.isfinite(side.score)
    assert result.verdict == Outcome.worst(s.outcome for s in result.sides)
    # honest stages: model, each side read, one network pass; delivered on the GUI thread
    done = [p[1] for p in progress]
    assert done == sorted(done) and done[0] == 0 and done[-1] == progress[-1][2] == 9
    assert any("Body 72°" in p[3] for p in progress) and any("Inspecting 7" in p[3] for p in progress)
    assert all(p[4] is threading.main_thread() for p in progress)


def test_thresholds_override_the_models_own_for_one_can(qtbot, inference, tiny_model):
    wide = Thresholds(review=0.0, reject=1.0)
    kind, result, _ = _inspect(qtbot, inference, tiny_model, seven_cans(), thresholds=wide)
    assert kind == "inspected", result
    assert [s.outcome for s in result.sides] == [wide.outcome(s.score) for s in result.sides]
    assert any(s.outcome == Outcome.REVIEW for s in result.sides)  # the band the override opened


def test_a_corrupt_model_comes_back_as_a_message_and_the_worker_stays_usable(
        qtbot, inference, tiny_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    weights = broken / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])  # truncated copy
    kind, exc, _ = _inspect(qtbot, inference, broken, seven_cans())
    assert kind == "failed" and isinstance(exc, ModelFileInvalid)
    assert "cannot be used" in str(exc)
    assert inference.running
    kind, result, _ = _inspect(qtbot, inference, tiny_model, seven_cans())
    assert kind == "inspected" and len(result.sides) == 7


def test_an_unreadable_photo_names_the_side(qtbot, inference, tiny_model):
    images: list = seven_cans()
    images[1] = b"not an image at all"
    kind, exc, _ = _inspect(qtbot, inference, tiny_model, images)
    assert kind == "failed" and isinstance(exc, UnreadableImage)
    assert "Bottom" in str(exc)


def test_load_answers_loaded_or_failed(qtbot, inference, tiny_model, tmp_path):
    with qtbot.waitSignal(inference.loaded, timeout=60000) as ok:
        inference.load(tiny_model, request_id=41)
    assert ok.args == [41, str(tiny_model)]
    with qtbot.waitSignal(inference.failed, timeout=10000) as bad:
        inference.load(tmp_path / "nowhere", request_id=42)
    assert bad.args[0] == 42 and isinstance(bad.args[1], ModelFileInvalid)


def test_mismatched_images_and_sides_are_refused_before_queuing(inference):
    with pytest.raises(ValueError):
        inference.inspect(1, "x", [np.zeros((8, 8, 3), np.uint8)], DEFAULT_SIDE_NAMES)


def test_a_site_model_is_prepared_on_the_inference_thread_before_its_can(qtbot, tiny_model,
                                                                          tmp_path):
    """``prepare`` (the station's ``site_models.ensure``: download and verify a model rolled out
    to the site) runs on the inference thread at the start of the can that needs the model, so
    the switch happens between two cans; the GUI thread never waits for a download."""
    calls: list[tuple[str, threading.Thread, int]] = []
    progress: list[int] = []

    def prepare(folder: str) -> str:
        calls.append((folder, threading.current_thread(), len(progress)))
        here = tmp_path / "site-models" / "v2"
        if not here.exists():            # the "download": a second copy of the model
            shutil.copytree(tiny_model, here)
        return str(here)

    svc = InferenceService(torch_threads=1, prepare=prepare)
    try:
        svc.side_progress.connect(lambda r, d, t, s: progress.append(d))
        wanted = str(tmp_path / "not-here-yet")
        for _ in range(2):
            kind, result, _ = _inspect(qtbot, svc, wanted, seven_cans())
            assert kind == "inspected", result
    finally:
        assert svc.shutdown()
    assert [c[0] for c in calls] == [wanted, wanted]          # asked before every can
    assert all(c[1] is not threading.main_thread() for c in calls)
    first_can = progress.index(9) + 1
    # Before the can's first stage: the can's "Loading the model…" (0) is emitted just before
    # ``prepare`` runs, so the GUI thread may or may not have received it by then; nothing later.
    assert calls[0][2] in (0, 1) and calls[1][2] - first_can in (0, 1), (calls, progress)
    assert progress[first_can] == 0 and progress[:first_can].count(0) == 1
