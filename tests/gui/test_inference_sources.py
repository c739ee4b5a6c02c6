"""gui.inference hands the sides to inspect_can as they came (arrays, encoded bytes or paths):
encoded sides are decoded inside their own tasks on the model's pool, in parallel, and judged
exactly as the decoded arrays are (issue 12)."""
from __future__ import annotations

import threading

import numpy as np
from PyQt5.QtCore import Qt

from core.images import encode_png
from core.sides import DEFAULT_SIDE_NAMES
from tests.gui.test_inference import _inspect, seven_cans


def test_bytes_paths_and_arrays_give_the_same_can(qtbot, inference, tiny_model, tmp_path):
    arrays = seven_cans(defect_side=2)
    encoded = [encode_png(a) for a in arrays]
    paths = []
    for i, data in enumerate(encoded):
        path = tmp_path / f"{i}.png"
        path.write_bytes(data)
        paths.append(str(path))
    emitted_on: list[tuple[str, str]] = []     # (stage, thread name) where the worker emitted it
    inference._worker.side_progress.connect(
        lambda r, d, t, s: emitted_on.append((s, threading.current_thread().name)), Qt.DirectConnection)
    results = {}
    for what, images in (("arrays", arrays), ("bytes", encoded), ("paths", paths)):
        emitted_on.clear()
        kind, result, progress = _inspect(qtbot, inference, tiny_model, images)
        assert kind == "inspected", result
        results[what] = result
        done = [p[1] for p in progress]
        assert done == sorted(done) and done[0] == 0 and done[-1] == 9
        read = [stage for stage, _ in emitted_on if stage.startswith("Read ")]
        assert sorted(read) == sorted(f"Read {side}" for side in DEFAULT_SIDE_NAMES)
        # each side was read on the model's pool, not one after another on the inference thread
        assert all(thread.startswith("sides") for stage, thread in emitted_on if stage.startswith("Read "))
    for what in ("bytes", "paths"):
        for side, same in zip(results[what].sides, results["arrays"].sides):
            assert (side.side, side.outcome, side.score) == (same.side, same.outcome, same.score), what
            assert np.array_equal(side.image, same.image) and np.array_equal(side.heatmap, same.heatmap)
        assert results[what].verdict == results["arrays"].verdict
