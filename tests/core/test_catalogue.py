"""The detector catalogue: one entry per kind; the CLI, the dispatcher and the registry read it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from core.detectors import build_network, catalogue, known_kinds
from core.detectors.catalogue import NotEnoughImages, OptionInvalid, UnknownDetector
from core.errors import DatasetInvalid, StationError
from core.model.io import load_model
from core.model.spec import read_spec
from core.progress import Progress
from core.training import TrainConfig, prepare, scan_dataset, train_model
from tests.helpers import make_synthetic_cans
from tests.toy_detector import toy_detector

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_kinds_declare_what_the_station_needs():
    assert catalogue.kinds()[:2] == ("cam", "patchcore") and catalogue.DEFAULT_KIND == "cam"
    cam, patchcore = catalogue.get("cam"), catalogue.get("patchcore")
    assert cam.needs_defects and not patchcore.needs_defects
    assert (cam.min_good, cam.min_defective, patchcore.min_good) == (2, 2, 6)
    assert (cam.input_size, patchcore.input_size) == (192, 224)
    assert patchcore.backbones == ("efficientnet_lite0",)
    assert [k.kind for k in catalogue.available()] == list(catalogue.kinds())
    assert TrainConfig().epochs == cam.option("epochs").default


def test_the_catalogue_is_torch_free():
    code = ("import sys; import core.detectors.catalogue, core.training, core.settings; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_unknown_kinds_and_options_are_person_facing_errors():
    with pytest.raises(UnknownDetector, match="unknown detector kind 'nope'") as caught:
        catalogue.get("nope")
    assert isinstance(caught.value, StationError) and isinstance(caught.value, KeyError)
    with pytest.raises(OptionInvalid, match="cam detector has no option 'max_bank'"):
        TrainConfig().with_options({"max_bank": 3})
    with pytest.raises(OptionInvalid, match="at least 1"):
        TrainConfig().with_options({"epochs": "0"})
    with pytest.raises(OptionInvalid, match="int values"):
        TrainConfig(detector="patchcore").with_options({"layers": "2 x"})
    config = TrainConfig(detector="patchcore").with_options({"layers": "1, 2", "sigma": "3"})
    assert config.options == {"layers": (1, 2), "sigma": 3.0} and config.option("max_bank") == 8192
    with pytest.raises(ValueError, match="already in the catalogue"):
        catalogue.add(catalogue.get("cam"))


def test_minimum_counts_come_from_the_catalogue(tmp_path):
    data = make_synthetic_cans(tmp_path / "d", n_good=5, n_defect=1, size=32)
    samples = scan_dataset(data)
    with pytest.raises(NotEnoughImages, match="at least 2 good and 2 defective.*Good-only") as caught:
        prepare(samples, TrainConfig())
    assert isinstance(caught.value, DatasetInvalid)
    with pytest.raises(NotEnoughImages, match="5 good and 1 defective found; it needs at least 6 good"):
        prepare(samples, TrainConfig(detector="patchcore"))
    with pytest.raises(OptionInvalid, match="backbone"):
        prepare(samples, TrainConfig(detector="patchcore", backbone="vgg16"))
    assert prepare(samples[:3] + samples[-1:] * 2, TrainConfig()).input_size == 192


def test_a_toy_kind_is_one_package_and_one_entry(tmp_path, capsys):
    data = make_synthetic_cans(tmp_path / "data", n_good=6, n_defect=6, size=32, seed=4)
    with toy_detector(tmp_path / "pkg") as entry:
        assert "toy" in known_kinds()
        # The CLI offers it, with its option, and trains it through the common path.
        with pytest.raises(SystemExit):
            main.main(["train", "--help"])
        usage = capsys.readouterr().out
        kinds = catalogue.kinds()
        assert f"--detector {{{','.join(kinds)}}}" in usage and "toy: how strongly darkness" in usage
        assert kinds[:2] == ("cam", "patchcore") and kinds[-1] == "toy"
        out = tmp_path / "toy-model"
        code = main.main(["--data-dir", str(tmp_path / "station"), "train", str(data), "--out",
                          str(out), "--detector", "toy", "--gain", "2.5"])
        assert code == 0, capsys.readouterr().err
        spec = read_spec(out)
        assert (spec.kind, spec.input_size, spec.extra["toy"]["gain"]) == ("toy", 32, 2.5)
        # Loading goes through the registry, which reads the same entry.
        model = load_model(out)
        assert type(build_network(spec)).__name__ == "DarknessNet"
        samples = scan_dataset(data)
        again = train_model(samples, TrainConfig(detector="toy").with_options({"gain": 2.5}),
                            Progress(), "again")
        from core.images import load_image
        images = [load_image(s.source) for s in samples]
        np.testing.assert_allclose(model.raw_outputs(images)[0], again.raw_outputs(images)[0],
                                   rtol=1e-6)
        with pytest.raises(NotEnoughImages, match="at least 3 good and 1 defective"):
            train_model(samples[:2], TrainConfig(detector="toy"), Progress(), "few")
        assert json.loads((out / "model.json").read_text())["kind"] == entry.kind
    assert "toy" not in catalogue.kinds()
    with pytest.raises(KeyError, match="unknown detector kind 'toy'"):
        build_network(spec)
