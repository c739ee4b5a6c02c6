"""The engine's command-line jobs through main.py: train, inspect, bench, and clean errors."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import main
from core.model.spec import read_spec
from tests.helpers import make_synthetic_cans


def _run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_jobs(capsys):
    with pytest.raises(SystemExit):
        main.main(["--help"])
    out = capsys.readouterr().out
    for job in ("train", "inspect", "bench"):
        assert job in out


@pytest.mark.slow
def test_train_then_inspect(tmp_path, capsys):
    data = make_synthetic_cans(tmp_path / "data", n_good=6, n_defect=6, size=64, seed=4)
    code, out, err = _run(capsys, "--data-dir", str(tmp_path / "station"), "train", str(data),
                          "--out", str(tmp_path / "m"), "--epochs", "2", "--input-size", "64",
                          "--views", "1", "--batch-size", "8", "--half")
    assert code == 0, err
    assert "saved" in out and "validation AUROC" in out
    spec = read_spec(tmp_path / "m")
    assert spec.name == "m" and spec.input_size == 64 and spec.trained_on["source"] == str(data.resolve())

    images = sorted((data / "defect").glob("*.png"))[:2] + sorted((data / "good").glob("*.png"))[:1]
    code, out, err = _run(capsys, "inspect", *map(str, images), "--model", str(tmp_path / "m"),
                          "--out", str(tmp_path / "overlays"))
    assert code == 0, err
    report = json.loads(out)
    assert report["verdict"] in ("pass", "review", "reject") and len(report["sides"]) == 3
    assert report["sides"][0]["image"] == str(images[0])
    written = sorted(p.name for p in (tmp_path / "overlays").iterdir())
    assert written == sorted(f"{p.stem}.overlay.jpg" for p in images)


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    code, out, err = _run(capsys, "inspect", str(tmp_path / "x.png"), "--model", str(tmp_path / "none"))
    assert code == 1 and err.startswith("error: The model at") and "Traceback" not in err
    code, _, err = _run(capsys, "train", str(tmp_path / "empty"), "--out", str(tmp_path / "m"))
    assert code == 1 and "does not exist" in err


@pytest.mark.slow
def test_bench_prints_its_table(tiny_model_dir, capsys):
    # a small PatchCore bank: this checks the table, not the time of a real bank (8192)
    code, out, err = _run(capsys, "bench", "--model", str(tiny_model_dir), "--repeats", "2",
                          "--warmup", "1", "--threads", "2", "--vgg", "--vgg-input-size", "64",
                          "--patchcore-bank", "256", "--json")
    assert code == 0, err
    assert "GEMM rate" in out and "net/floor" in out
    figures = json.loads(out[out.index("\n{") + 1:])
    runtimes = [(r["model"].split()[0], r["runtime"]) for r in figures["rows"]]
    tiny = runtimes[0][0]
    assert runtimes == [(tiny, "torch"), (tiny, "onnxruntime"), (tiny, "openvino"),
                        ("patchcore-timing", "torch"), ("patchcore-timing", "torch, before"),
                        ("patchcore-timing", "onnxruntime"), ("patchcore-timing", "openvino"),
                        ("vgg16-CAM", "torch")]
    rows = figures["rows"]
    assert all(r["can_median_ms"] > 0 and r["floor_ms"] > 0 for r in rows)
    assert all(r["parity"] < 1e-3 for r in rows) and figures["peak_rss_mb"] > 0
    # what 2x its first row would leave the network, from the same rows' medians
    needs = {n["model"]: n for n in figures["two_x"]}
    assert set(needs) == {rows[0]["model"], "patchcore-timing"}        # VGG has one row: nothing to compare
    for model, need in needs.items():
        mine = [r for r in rows if r["model"] == model]
        first = next((r for r in mine if r["runtime"] == "torch, before"), mine[0])
        fastest = min(mine, key=lambda r: r["can_median_ms"])
        assert need["runtime"] == fastest["runtime"]
        assert need["half_ms"] == pytest.approx(first["can_median_ms"] / 2, abs=0.02)
        assert need["shared_ms"] == pytest.approx(
            fastest["can_median_ms"] - fastest["stages_ms"]["network"], abs=0.05)
        assert need["network_ms_left"] == pytest.approx(need["half_ms"] - need["shared_ms"], abs=0.02)
        assert f"{model}: 2x the can of its first row" in out


def test_inspect_on_a_full_disk_says_so_and_leaves_no_partial_overlay(tiny_model_dir, tmp_path, capsys):
    """Overlays were written with cv2.imwrite, which reports a full disk by returning False."""
    from tests.disks import fill, small_disk

    images = sorted((tiny_model_dir.parent / "data" / "defect").glob("*.png"))[:2]
    with small_disk(tmp_path / "disk", 256) as disk:
        fill(disk, leave_kb=4)
        code, out, err = _run(capsys, "inspect", *map(str, images), "--model", str(tiny_model_dir),
                              "--out", str(disk / "overlays"))
        assert code == 1 and "Traceback" not in err
        assert err.startswith("error: The disk holding") and "is full" in err
        # What is there is whole (a finished overlay of an earlier image may fit): no partial file.
        written = list((disk / "overlays").iterdir())
        assert len(written) < len(images)
        assert all(p.name.endswith(".overlay.jpg") and cv2.imread(str(p)) is not None for p in written)
def test_train_to_a_can_level_false_reject_target(tmp_path, capsys):
    from core.scoring.can_target import can_target_record

    data = make_synthetic_cans(tmp_path / "data", n_good=6, n_defect=6, size=64, seed=4)
    code, _, err = _run(capsys, "train", str(data), "--out", str(tmp_path / "m"),
                        "--can-false-reject", "2")
    assert code == 2 and "between 0 and 1" in err
    code, out, err = _run(capsys, "--data-dir", str(tmp_path / "station"), "train", str(data),
                          "--out", str(tmp_path / "m"), "--epochs", "2", "--input-size", "64",
                          "--views", "1", "--batch-size", "8", "--can-false-reject", "0.01")
    assert code == 0, err
    spec = read_spec(tmp_path / "m")
    target = can_target_record(spec)
    assert target["target"] == 0.01 and spec.thresholds.reject == target["reject"]
    assert not target["observable"] and target["n_good"] == spec.trained_on["n_val"] // 2
    assert "can-level target: reject from" in out and "good images with none rejected" in out
    # Every training and validation image is fingerprinted, compactly.
    record = spec.trained_on["image_sha256"]
    assert record["count"] == 12 and len(record["digests"]) == 128   # 12 x 8 bytes in base64


def test_the_image_size_limit_comes_from_the_settings(tiny_model_dir, tmp_path, capsys, monkeypatch):
    """max_image_mb (settings.json or STATION_MAX_IMAGE_MB) is applied at start-up, before any read."""
    import core.images.io as image_io
    from core.settings import env_name

    monkeypatch.setattr(image_io, "MAX_IMAGE_BYTES", image_io.MAX_IMAGE_BYTES)  # restored afterwards
    big = tmp_path / "big.png"
    rng = np.random.default_rng(0)
    assert cv2.imwrite(str(big), rng.integers(0, 255, (900, 900, 3), dtype=np.uint8))
    assert big.stat().st_size > 1024 * 1024
    monkeypatch.setenv(env_name("max_image_mb"), "1")
    code, out, err = _run(capsys, "--data-dir", str(tmp_path / "data"), "inspect", str(big),
                          "--model", str(tiny_model_dir))
    assert code != 0 and "Traceback" not in err
    assert "big.png" in err and "more than the limit of 1.0 MB" in err and "max_image_mb" in err
    assert image_io.MAX_IMAGE_BYTES == 1024 * 1024
