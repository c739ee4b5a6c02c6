"""Model folders under attack (issue 9 items 4, 6, 7, 9): damaged weights are caught by their
checksum, special and oversized files are refused at once, absurd specs are refused before any
memory is taken, malformed headers raise only ModelFileInvalid, and a full disk keeps the old model."""
from __future__ import annotations

import hashlib
import json
import logging
import resource
import shutil
import struct

import numpy as np
import pytest

from common.errors import StorageFull
from core.errors import ModelFileInvalid
from core.model.io import CHECKSUM_MISMATCH, load_model, resave_model, save_model
from core.model.spec import FORMAT_VERSION, SPEC_FILE, WEIGHTS_FILE, read_spec
from tests.special_files import deadline, hostile_files


@pytest.fixture()
def model_copy(tiny_model_dir, tmp_path):
    target = tmp_path / "m"
    shutil.copytree(tiny_model_dir, target)
    return target


def _invalid(folder) -> str:
    with pytest.raises(ModelFileInvalid) as info:
        load_model(folder)
    return info.value.reason


def _spec_data(folder) -> dict:
    return json.loads((folder / SPEC_FILE).read_text())


def _write_spec(folder, data) -> None:
    (folder / SPEC_FILE).write_text(json.dumps(data))


def _data_start(weights) -> int:
    (length,) = struct.unpack("<Q", weights.read_bytes()[:8])
    return 8 + length


# -- item 4: the checksum -----------------------------------------------------------------------------
def test_model_json_records_the_weights_checksum(model_copy):
    data = _spec_data(model_copy)
    assert data["format_version"] == FORMAT_VERSION == 2
    assert data["weights_sha256"] == hashlib.sha256((model_copy / WEIGHTS_FILE).read_bytes()).hexdigest()


@pytest.mark.parametrize("seed", range(5))
def test_twenty_flipped_bytes_in_the_weights_are_refused(model_copy, seed):
    """Flipping 20 bytes in the data loaded in 4 of 5 cases and changed the verdicts."""
    weights = model_copy / WEIGHTS_FILE
    raw = bytearray(weights.read_bytes())
    rng = np.random.default_rng(seed)
    for pos in rng.choice(np.arange(_data_start(weights), len(raw)), size=20, replace=False):
        raw[pos] ^= 0xFF
    weights.write_bytes(bytes(raw))
    assert _invalid(model_copy) == CHECKSUM_MISMATCH


def test_a_changed_checksum_is_refused_too(model_copy):
    data = _spec_data(model_copy)
    data["weights_sha256"] = "0" * 64
    _write_spec(model_copy, data)
    assert "checksum" in _invalid(model_copy)
    data["weights_sha256"] = "not hex"
    _write_spec(model_copy, data)
    assert "weights_sha256" in _invalid(model_copy)
    del data["weights_sha256"]
    _write_spec(model_copy, data)
    assert "weights_sha256" in _invalid(model_copy)


def test_format_1_loads_with_a_warning_and_resaving_adds_the_checksum(model_copy, caplog):
    data = _spec_data(model_copy)
    data["format_version"] = 1
    del data["weights_sha256"]
    _write_spec(model_copy, data)
    weights_before = (model_copy / WEIGHTS_FILE).read_bytes()
    with caplog.at_level(logging.WARNING, logger="core.model.io"):
        model = load_model(model_copy)
    assert model.spec.format_version == 1
    assert "no checksum" in caplog.text and "resave_model" in caplog.text
    checksum = resave_model(model_copy)
    assert (model_copy / WEIGHTS_FILE).read_bytes() == weights_before  # the same weights
    again = _spec_data(model_copy)
    assert again["format_version"] == 2 and again["weights_sha256"] == checksum
    assert read_spec(model_copy) == model.spec.replace(format_version=2)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.model.io"):
        load_model(model_copy)
    assert "no checksum" not in caplog.text


def test_the_bundled_default_model_carries_its_checksum():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"
    data = _spec_data(folder)
    assert data["format_version"] == 2
    assert data["weights_sha256"] == hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()


# -- item 6: special files and bounded reads -------------------------------------------------------
@pytest.mark.parametrize("which", [SPEC_FILE, WEIGHTS_FILE])
@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "dev_urandom", "sparse", "folder"])
def test_special_or_huge_model_files_are_refused_at_once(model_copy, tmp_path, which, kind):
    head = (model_copy / which).read_bytes()[:4096]
    hostile = hostile_files(tmp_path / "hostile", which, head=head)[kind]
    (model_copy / which).unlink()
    if kind == "folder":
        hostile.rename(model_copy / which)
    else:
        (model_copy / which).symlink_to(hostile)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with deadline(5):   # a FIFO read would block forever; the memory bound shows nothing big was read
        reason = _invalid(model_copy)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # kB
    assert which in reason
    words = {"fifo": "named pipe", "dev_zero": "character device", "dev_urandom": "character device",
             "sparse": "1.5 GB", "folder": "folder"}[kind]
    assert words in reason


def test_weights_larger_than_the_network_needs_are_refused_before_reading(model_copy):
    weights = model_copy / WEIGHTS_FILE
    with open(weights, "ab") as fh:
        fh.truncate(weights.stat().st_size + 200 * 1024 * 1024)  # sparse: costs no disk
    assert "more than the network" in _invalid(model_copy)


# -- item 7: spec bounds -----------------------------------------------------------------------------
@pytest.mark.parametrize("change, words", [
    ({"input_size": 4096}, "input_size"),
    ({"input_size": 8}, "input_size"),
    ({"input_size": 128.0}, "input_size"),
    ({"input_size": True}, "input_size"),
    ({"std": [1e-6, 0.5, 0.5]}, "std"),
    ({"std": [0.5, 0.5, 0.0]}, "std"),
    ({"mean": [0.5, 0.5, float("nan")]}, "mean"),
    ({"score_scale": {"raw_low": 0.0, "raw_threshold": 5e-324, "raw_high": 1.0}}, "vanishing span"),
    ({"score_scale": {"raw_low": -1e300, "raw_threshold": 0.0, "raw_high": 1.0}}, "score_scale"),
    ({"heatmap_scale": {"raw_low": 0, "raw_threshold": float("inf"), "raw_high": 1}}, "heatmap_scale"),
    ({"heatmap_scale": {"raw_low": 0, "raw_threshold": "1", "raw_high": 2}}, "heatmap_scale"),
    ({"score_scale": [0, 1, 2]}, "score_scale"),
    ({"thresholds": "default"}, "thresholds"),
    ({"thresholds": {"review": "0.3", "reject": 0.7}}, "thresholds"),
    ({"thresholds": {"review": 0.6, "reject": 0.7}}, "thresholds"),
    ({"class_names": ["Good"] * 1000}, "class_names"),
    ({"class_names": "Good,Anomaly"}, "class_names"),
    ({"name": "x" * 100_000}, "name"),
    ({"kind": ""}, "kind"),
    ({"version": 7}, "version"),
    ({"extra": [1, 2]}, "extra"),
    ({"metrics": {"a": json.loads("[" * 40 + "]" * 40)}}, "nested"),
    ({"format_version": "2"}, "format_version"),
])
def test_absurd_specs_are_refused(model_copy, change, words):
    _write_spec(model_copy, _spec_data(model_copy) | change)
    with pytest.raises(ModelFileInvalid) as info:
        read_spec(model_copy)
    assert words in info.value.reason
    assert words in _invalid(model_copy)


def test_deeply_nested_json_is_refused_without_recursion_error(model_copy):
    (model_copy / SPEC_FILE).write_text("[" * 200_000 + "]" * 200_000)
    assert "nested too deeply" in _invalid(model_copy)


def _random_patchcore(folder, bank_size=40):
    """A PatchCore model folder with random weights (no training: the checks come first)."""
    import torch

    from core.detectors.patchcore.network import PatchCoreNet
    from core.model.model import Model
    from core.model.spec import ModelSpec
    from core.scoring.calibration import ScoreScale

    torch.manual_seed(0)
    net = PatchCoreNet("efficientnet_lite0", bank_size=bank_size)
    net.memory_bank.normal_()
    spec = ModelSpec(name="pc", kind="patchcore", backbone="efficientnet_lite0", input_size=64,
                     mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), score_scale=ScoreScale(0.0, 1.0, 2.0),
                     heatmap_scale=ScoreScale(0.0, 1.0, 2.0),
                     extra={"patchcore": {"bank_size": bank_size, "layers": [2, 3], "sigma": 4.0}})
    save_model(Model(spec, net), folder)
    return folder


@pytest.mark.parametrize("bank, words", [(10_000_000, "bank_size"), (41, "memory_bank"),
                                         (40.5, "bank_size"), (0, "bank_size")])
def test_a_patchcore_bank_the_weights_do_not_hold_is_refused_before_allocating(tmp_path, bank, words):
    folder = _random_patchcore(tmp_path / "pc")
    assert load_model(folder).network.memory_bank.shape == (40, 152)
    data = _spec_data(folder)
    data["extra"]["patchcore"]["bank_size"] = bank
    _write_spec(folder, data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert words in _invalid(folder)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # kB


def test_patchcore_layers_and_sigma_are_bounded(tmp_path):
    folder = _random_patchcore(tmp_path / "pc")
    for change in ({"layers": [2, 9]}, {"layers": "23"}, {"sigma": 1e9}, {"sigma": "4"}):
        data = _spec_data(folder)
        data["extra"]["patchcore"].update(change)
        _write_spec(folder, data)
        reason = _invalid(folder)
        assert "extra.patchcore" in reason, change


# -- item 9: malformed safetensors headers raise ModelFileInvalid only ------------------------------
def _with_header(folder, header, data: bytes | None = None) -> None:
    weights = folder / WEIGHTS_FILE
    raw = weights.read_bytes()
    body = raw[_data_start(weights):] if data is None else data
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    weights.write_bytes(struct.pack("<Q", len(text)) + text + body)


def _real_header(folder) -> dict:
    raw = (folder / WEIGHTS_FILE).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length])


def test_malformed_headers_are_refused_with_a_reason(model_copy):
    real = _real_header(model_copy)
    tensors = sorted((k for k in real if k != "__metadata__"), key=lambda k: real[k]["data_offsets"][0])
    name, first, second = tensors[0], tensors[0], tensors[1]
    cases = {
        "json list": [1, 2, 3],
        "string offsets": real | {name: real[name] | {
            "data_offsets": [str(v) for v in real[name]["data_offsets"]]}},
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "wrong dtype": real | {name: real[name] | {"dtype": "U8"}},
        "unknown dtype": real | {name: real[name] | {"dtype": "Q99"}},
        "overlapping": real | {second: real[second] | {"data_offsets": real[first]["data_offsets"]}},
        "not utf-8": b"\xff\xfe{}",
        "metadata not text": real | {"__metadata__": {"format": 1}},
    }
    for label, header in cases.items():
        _with_header(model_copy, header)
        reason = _invalid(model_copy)
        assert WEIGHTS_FILE in reason or "tensor" in reason, label


def test_header_length_beyond_the_file_is_refused(model_copy):
    weights = model_copy / WEIGHTS_FILE
    raw = weights.read_bytes()
    weights.write_bytes(struct.pack("<Q", 2 ** 63) + raw[8:])
    assert "truncated" in _invalid(model_copy)
    weights.write_bytes(struct.pack("<Q", len(raw)) + raw[8:])
    assert "truncated" in _invalid(model_copy)


# -- item 5: a full disk while saving ----------------------------------------------------------------
def test_full_disk_while_saving_keeps_the_previous_model(tiny_model, tmp_path):
    from tests.disks import fill, small_disk

    with small_disk(tmp_path / "disk", 40 * 1024) as disk:
        target = disk / "models" / "m"
        save_model(tiny_model, target, half=True)
        before = {p.name: p.read_bytes() for p in target.iterdir()}
        fill(disk, leave_kb=1024)
        with pytest.raises(StorageFull) as info:
            save_model(tiny_model, target)
        assert str(target) in str(info.value)
        assert {p.name: p.read_bytes() for p in target.iterdir()} == before
        assert sorted(p.name for p in target.parent.iterdir()) == ["m"]
        load_model(target)
