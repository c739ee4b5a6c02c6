"""The region options of the command line: train --region, evaluate --backdrop-check, inspect."""
from __future__ import annotations

import json

import main
from core.model.spec import read_spec
from tests.helpers import make_synthetic_cans


def _run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_whole_photo_records_no_region(tmp_path, capsys):
    data = make_synthetic_cans(tmp_path / "data", n_good=4, n_defect=4, size=64, seed=5)
    code, _, err = _run(capsys, "train", str(data), "--out", str(tmp_path / "m"), "--epochs", "1",
                          "--input-size", "64", "--views", "1", "--region", "whole", "--backdrops", "no")
    assert code == 0, err
    spec = read_spec(tmp_path / "m")
    assert spec.preprocessing == {} and spec.trained_on["config"]["options"]["region"] == "whole"


def test_evaluate_backdrop_check_and_inspect_report_regions(tiny_model_dir, tmp_path, capsys):
    data = tiny_model_dir.parent / "data"
    code, out, err = _run(capsys, "evaluate", str(data), "--model", str(tiny_model_dir), "--json",
                          "--limit", "6", "--backdrop-check")
    assert code == 0, err
    check = json.loads(out)["backdrop_check"]
    assert check["images"] + check["skipped_no_can"] == 3       # --limit keeps the proportions
    assert check["repaints"] == 10 * check["images"] and check["verdicts_changed"] >= 0
    code, out, err = _run(capsys, "evaluate", str(data), "--model", str(tiny_model_dir), "--limit", "6",
                          "--backdrop-check")
    assert code == 0 and "Backdrop check:" in out
    image = min((data / "defect").glob("*.png"))
    code, out, err = _run(capsys, "inspect", str(image), "--model", str(tiny_model_dir))
    side = json.loads(out)["sides"][0]
    assert code == 0 and len(side["region"]) >= 3 and all(len(p) == 2 for p in side["region"])
