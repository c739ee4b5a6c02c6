"""The exported inference path: parity of every kind on every runtime, the cache and the fallbacks.

Real runtimes (ONNX Runtime and OpenVINO are dependencies: a missing one fails here), real models
(the session's tiny CAM, a tiny PatchCore built here, the toy kind of ``tests.toy_detector``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.detectors import catalogue
from core.detectors.catalogue import Export
from core.model.io import load_model
from core.model.model import Model
from core.model.runtime import cache
from core.model.runtime.engines import ENGINES, installed
from core.model.runtime.export import spans
from core.model.runtime.loading import load_for_inspection
from core.model.spec import SPEC_FILE, WEIGHTS_FILE, ModelSpec, read_spec, spec_json
from core.progress import Progress
from core.scoring.calibration import ScoreScale
from core.training import TrainConfig, scan_dataset, train_model
from core.verdict import inspect_can
from tests.helpers import make_synthetic_cans, synthetic_can
from tests.toy_detector import toy_detector

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cam_dir(tiny_model_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rt") / "cam"
    shutil.copytree(tiny_model_dir, folder)
    return folder


@pytest.fixture(scope="module")
def patchcore_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rt-pc")
    data = make_synthetic_cans(root / "train", n_good=8, n_defect=0, size=96, seed=3)
    config = TrainConfig(detector="patchcore", input_size=96, batch_size=8, seed=0)
    model = train_model(scan_dataset(data), config, Progress(), name="pc-runtime")
    model.save(root / "pc")
    return root / "pc"


def _sides(size: int = 96, seed: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [synthetic_can(rng, size, defects=i % 2)[0] for i in range(7)]


def _relative_error(model: Model, a: tuple[np.ndarray, np.ndarray],
                    b: tuple[np.ndarray, np.ndarray]) -> float:
    score_span, map_span = spans(model)
    return max(float(np.abs(a[0] - b[0]).max()) / score_span,
               float(np.abs(a[1] - b[1]).max()) / map_span)


def test_both_runtimes_are_installed():
    assert installed() == ENGINES


@pytest.mark.parametrize("kind", ["cam", "patchcore"])
def test_every_kind_matches_torch_on_every_runtime(kind, request, tmp_path):
    folder = request.getfixturevalue(f"{kind}_dir")
    reference = load_model(folder)
    assert reference.spec.kind == kind and catalogue.get(kind).export is not None
    images = _sides()
    expected = reference.raw_outputs(images)
    expected_can = inspect_can(reference, images)
    for runtime in ENGINES:
        model = load_for_inspection(folder, runtime=runtime, threads=2, cache_root=tmp_path)
        assert model.runtime == runtime and model.network is None
        got = model.raw_outputs(images)
        assert _relative_error(model, expected, got) <= catalogue.get(kind).export.tolerance
        can = inspect_can(model, images)
        assert [s.outcome for s in can.sides] == [s.outcome for s in expected_can.sides]
        assert np.allclose([s.score for s in can.sides], [s.score for s in expected_can.sides],
                           atol=1e-3)
        # Batches smaller than a can (the graph's batch axis is dynamic).
        one = model.raw_outputs(images[:2])
        assert _relative_error(model, (expected[0][:2], expected[1][:2]), one) <= 1e-3
    record = cache.find(folder, cache.weights_sha256(folder), None)
    assert record is not None and record.meta["chosen"] in ENGINES
    assert all(record.passed(r) for r in ENGINES)


def test_cache_is_reused_then_invalidated_when_the_weights_change(cam_dir, tmp_path, caplog):
    folder = tmp_path / "m"
    shutil.copytree(cam_dir, folder, ignore=shutil.ignore_patterns(cache.CACHE_DIR))
    load_for_inspection(folder, threads=2)
    meta = folder / cache.CACHE_DIR / cache.META_FILE
    first = json.loads(meta.read_text())
    assert first["weights_sha256"] == cache.weights_sha256(folder)
    stamp = meta.stat().st_mtime_ns
    load_for_inspection(folder, threads=2)
    assert meta.stat().st_mtime_ns == stamp   # reused, not exported again

    # New weights in place (the cache folder stays): the old export must not be used.
    changed = load_model(folder)
    with torch.no_grad():
        changed.network.head.bias[1] += 2.0
    from safetensors.torch import save
    state = {k: v.detach().contiguous() for k, v in changed.network.state_dict().items()}
    data = save(state, metadata={"format": "pt"})
    (folder / WEIGHTS_FILE).write_bytes(data)
    (folder / SPEC_FILE).write_text(spec_json(read_spec(folder), hashlib.sha256(data).hexdigest()))
    with caplog.at_level(logging.INFO):
        model = load_for_inspection(folder, threads=2)
    assert "made from other weights" in caplog.text
    second = json.loads(meta.read_text())
    assert second["weights_sha256"] == cache.weights_sha256(folder) != first["weights_sha256"]
    images = _sides()
    assert _relative_error(model, load_model(folder).raw_outputs(images),
                           model.raw_outputs(images)) <= 1e-3

    # A damaged export is ignored and replaced.
    with open(folder / cache.CACHE_DIR / cache.ONNX_FILE, "ab") as fh:
        fh.write(b"\0")
    with caplog.at_level(logging.WARNING):
        assert load_for_inspection(folder, threads=2).runtime in ENGINES
    assert "does not match its recorded hash" in caplog.text


def test_a_model_folder_that_cannot_hold_the_cache_uses_the_data_cache(cam_dir, tmp_path):
    folder = tmp_path / "bundled"
    shutil.copytree(cam_dir, folder, ignore=shutil.ignore_patterns(cache.CACHE_DIR))
    (folder / cache.CACHE_DIR).write_text("not a folder")  # as a read-only folder: no mkdir
    root = tmp_path / "data-cache"
    model = load_for_inspection(folder, threads=2, cache_root=root)
    assert model.runtime in ENGINES
    sha = cache.weights_sha256(folder)
    assert (root / sha / cache.ONNX_FILE).is_file()


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("kind", ["cam", "patchcore"])
def test_inspect_command_runs_without_torch_once_exported(kind, request, tmp_path):
    folder = request.getfixturevalue(f"{kind}_dir")
    load_for_inspection(folder, threads=2)   # exported (and cached) here, in torch
    from core.images import encode_png
    paths = []
    for i, img in enumerate(_sides()):
        paths.append(tmp_path / f"side{i}.png")
        paths[-1].write_bytes(encode_png(img))
    argv = ["main.py", "--data-dir", str(tmp_path / "data"), "inspect", "--threads", "2",
            "--model", str(folder), *map(str, paths)]
    done = _run(f"""
import runpy, sys
sys.argv = {argv!r}
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print("TORCH LOADED:", "torch" in sys.modules)
""")
    assert done.returncode == 0, done.stderr
    assert "TORCH LOADED: False" in done.stdout
    report = json.loads(done.stdout[:done.stdout.rindex("TORCH LOADED")])
    assert len(report["sides"]) == 7
    assert "network runs in" in done.stderr


def test_missing_runtimes_fall_back_to_torch_with_a_reason(cam_dir):
    load_for_inspection(cam_dir, threads=2)   # the export exists; the runtimes then go missing
    done = _run(f"""
import logging, sys
logging.basicConfig(level=logging.INFO)
sys.modules["onnxruntime"] = None
sys.modules["openvino"] = None
from core.model.runtime.loading import load_for_inspection
model = load_for_inspection({str(cam_dir)!r}, threads=1)
print("RUNTIME", model.runtime)
""")
    assert done.returncode == 0, done.stderr
    assert "RUNTIME torch" in done.stdout
    assert "runs in torch" in done.stderr and "not installed" in done.stderr


def _toy_folder(root: Path, gain: float = 1.0) -> Path:
    from toy_darkness.network import DarknessNet  # on sys.path inside toy_detector()

    scale = ScoreScale(-1.0, 0.0, 1.0)
    spec = ModelSpec(name="toy", kind="toy", backbone="efficientnet_lite0", input_size=32,
                     mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), score_scale=scale,
                     heatmap_scale=scale, extra={"toy": {"gain": gain}})
    Model(spec, DarknessNet(gain)).save(root / "toy")
    return root / "toy"


class _MapsOnly(nn.Module):
    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor):
        return self.network(x)[1]   # breaks the (scores, maps) contract: the export must fail


def maps_only(network: nn.Module) -> nn.Module:
    return _MapsOnly(network)


def broken(network: nn.Module) -> nn.Module:
    raise RuntimeError("this kind cannot export yet")


def doubled(network: nn.Module) -> nn.Module:
    """A graph that is NOT the network: parity must catch it."""
    from toy_darkness.network import DarknessNet
    return DarknessNet(2.0 * float(network.gain))


def test_a_kind_without_export_runs_in_torch(tmp_path, caplog):
    with toy_detector(tmp_path / "pkg") as entry:
        catalogue.add(dataclasses.replace(entry, runtime="torch"), replace=True)
        folder = _toy_folder(tmp_path)
        with caplog.at_level(logging.INFO):
            model = load_for_inspection(folder)
        assert model.runtime == "torch" and "declares no export" in caplog.text
        assert not (folder / cache.CACHE_DIR).exists()


@pytest.mark.parametrize("hook, said", [("broken", "could not be exported"),
                                        ("maps_only", "failed parity or was not checked"),
                                        ("doubled", "failed parity")])
def test_export_or_parity_failure_falls_back_to_torch(hook, said, tmp_path, caplog):
    with toy_detector(tmp_path / "pkg") as entry:
        catalogue.add(dataclasses.replace(entry, export=Export(f"{__name__}:{hook}")), replace=True)
        folder = _toy_folder(tmp_path)
        with caplog.at_level(logging.INFO):
            model = load_for_inspection(folder, threads=2)
        assert model.runtime == "torch", caplog.text
        assert said in caplog.text
        images = _sides(32)
        expected = load_model(folder).raw_outputs(images)
        assert np.allclose(model.raw_outputs(images)[0], expected[0])
        if hook == "doubled":   # the failed check is remembered: no second export next time
            stamp = (folder / cache.CACHE_DIR / cache.META_FILE).stat().st_mtime_ns
            assert load_for_inspection(folder).runtime == "torch"
            assert (folder / cache.CACHE_DIR / cache.META_FILE).stat().st_mtime_ns == stamp


def test_settings_can_force_torch(cam_dir):
    assert load_for_inspection(cam_dir, runtime="torch").runtime == "torch"


@pytest.fixture(scope="module")
def segdec_dir(tmp_path_factory) -> Path:
    """A segdec model (untrained weights: parity does not depend on training)."""
    from core.detectors import build_network
    unit = ScoreScale(-5.0, 0.0, 5.0)
    spec = ModelSpec(name="segdec-runtime", kind="segdec", backbone="efficientnet_lite0",
                     input_size=96, mean=(0.5,) * 3, std=(0.5,) * 3, score_scale=unit,
                     heatmap_scale=unit)
    folder = tmp_path_factory.mktemp("rt-sd") / "segdec"
    Model(spec, build_network(spec)).save(folder)
    return folder


def test_segdec_matches_torch_on_every_runtime(segdec_dir, tmp_path):
    reference = load_model(segdec_dir)
    images = _sides()
    expected = reference.raw_outputs(images)
    for runtime in ENGINES:
        model = load_for_inspection(segdec_dir, runtime=runtime, threads=2, cache_root=tmp_path)
        assert model.runtime == runtime
        assert _relative_error(model, expected, model.raw_outputs(images)) <= 1e-3


def test_classical_inspects_in_numpy_without_torch(tmp_path):
    from tests.scratches import make_scratch_set
    data = make_scratch_set(tmp_path / "d", n_good=8, n_defect=0, masks=0, size=96, seed=1)
    model = train_model(scan_dataset(data), TrainConfig(detector="classical", input_size=96),
                        Progress(), "classical")
    model.save(tmp_path / "classical")
    images = _sides()
    expected = load_model(tmp_path / "classical").raw_outputs(images)
    np.save(tmp_path / "x.npy", np.stack(images))
    done = _run(f"""
import sys, numpy as np
from core.model.runtime.loading import load_for_inspection
model = load_for_inspection({str(tmp_path / "classical")!r})
s, m = model.raw_outputs(list(np.load({str(tmp_path / "x.npy")!r})))
np.save({str(tmp_path / "s.npy")!r}, s); np.save({str(tmp_path / "m.npy")!r}, m)
print("RUNTIME", model.runtime, "TORCH", "torch" in sys.modules)
""")
    assert done.returncode == 0, done.stderr
    assert "RUNTIME numpy TORCH False" in done.stdout
    assert np.allclose(np.load(tmp_path / "s.npy"), expected[0], atol=1e-5)
    assert np.allclose(np.load(tmp_path / "m.npy"), expected[1], atol=1e-5)
