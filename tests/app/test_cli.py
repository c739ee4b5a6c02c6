"""The app layer's command-line jobs: ``report`` and ``build-from-gallery`` sign in, go through the
same services as the GUI, and are refused by them for the wrong role."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

import main
from common.atomic import TMP_MARK
from core.model.spec import read_spec
from core.sides import DEFAULT_SIDE_NAMES
from tests.gui.conftest import PASSWORD, record_inspection


def run(world, argv: list[str], password: str | None = PASSWORD) -> int:
    args = main.build_parser().parse_args(["--data-dir", str(world.settings.data_dir), *argv])
    stdin = io.StringIO(f"{password}\n" if password is not None else "")
    return args.run(args, world.settings, stdin=stdin)


@pytest.fixture
def recorded(world):
    ids = [record_inspection(world, world.operator, verdict, seed=seed)
           for seed, verdict in enumerate(("pass", "reject", "review", "reject"))]
    return ids


def test_report_writes_the_filtered_pdf(world, recorded, tmp_path, capsys):
    out = tmp_path / "rejects.pdf"
    code = run(world, ["report", str(out), "--verdict", "reject", "--product", "BEANS-400",
                       "--username", "sue", "--password-stdin"])
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(b"%PDF")
    assert "wrote" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if TMP_MARK in p.name]      # no temporary left
    counts = world.station.stats.summary(world.supervisor, _filter(world, verdict="reject"))
    assert counts.total == 2
    capsys.readouterr()
    assert run(world, ["report", str(tmp_path / "all.pdf"), "--max-inspections", "1",
                       "--username", "sue", "--password-stdin"]) == 0
    assert "4 inspections, 1 with a page of their own, 2 pages" in capsys.readouterr().out


def _filter(world, **kw):
    from db.records import GalleryFilter

    return GalleryFilter(product_id=world.product_id, **kw)


def test_report_is_refused_to_an_operator_and_to_a_wrong_password(world, recorded, tmp_path,
                                                                  capsys):
    out = tmp_path / "r.pdf"
    assert run(world, ["report", str(out), "--username", "otto", "--password-stdin"]) == 1
    assert "error:" in capsys.readouterr().err and not out.exists()
    assert run(world, ["report", str(out), "--username", "sue", "--password-stdin"],
               password="wrong") == 2
    assert "error:" in capsys.readouterr().err and not out.exists()
    assert run(world, ["report", str(out), "--product", "PEAS-1", "--username", "sue",
                       "--password-stdin"]) == 1
    assert "no product 'PEAS-1' (known: BEANS-400)" in capsys.readouterr().err


@pytest.mark.slow
def test_build_from_gallery_trains_registers_and_honours_corrections(world, recorded,
                                                                     monkeypatch, capsys):
    info = world.station.inspections.get(world.admin, recorded[0])
    world.station.corrections.correct_side(world.supervisor, info.sides[0].id, "Anomaly", "dent")
    monkeypatch.setenv("STATION_USERNAME", "admin")
    monkeypatch.setenv("STATION_PASSWORD", PASSWORD)
    code = run(world, ["build-from-gallery", "--name", "from gallery", "--product", "BEANS-400",
                       "--input-size", "64", "--epochs", "2"], password=None)
    assert code == 0, capsys.readouterr().err
    (model,) = world.station.models.list(world.admin)
    assert (model.name, model.kind) == ("from gallery", "cam")
    assert Path(model.folder).parent == world.settings.models_dir
    spec = read_spec(model.folder)
    assert spec.trained_on["source"] == f"gallery (product {world.product_id})"
    assert spec.input_size == 64
    assert (spec.trained_on["n_good"], spec.trained_on["n_anomaly"]) == (24, 4)  # 1 corrected
    assert f"registered model 'from gallery' version {model.version}" in capsys.readouterr().out


@pytest.mark.slow
def test_build_from_gallery_adds_the_gallery_to_a_folder(world, recorded, monkeypatch, capsys, tmp_path):
    from tests.helpers import make_synthetic_cans

    folder = make_synthetic_cans(tmp_path / "set", n_good=4, n_defect=4, size=64)
    monkeypatch.setenv("STATION_USERNAME", "admin")
    monkeypatch.setenv("STATION_PASSWORD", PASSWORD)
    code = run(world, ["build-from-gallery", "--name", "commissioned", "--product", "BEANS-400",
                       "--folder", str(folder), "--input-size", "64", "--epochs", "2"], password=None)
    assert code == 0, capsys.readouterr().err
    (model,) = world.station.models.list(world.admin)
    spec = read_spec(model.folder)
    assert spec.trained_on["source"] == f"{folder} + gallery (product {world.product_id})"
    assert (spec.trained_on["n_good"], spec.trained_on["n_anomaly"]) == (25 + 4, 3 + 4)


def test_build_from_gallery_is_refused_to_a_supervisor_and_below_the_minimum(world, recorded,
                                                                             capsys):
    args = ["build-from-gallery", "--name", "m", "--username", "sue", "--password-stdin"]
    assert run(world, args) == 1
    assert "not allowed" in capsys.readouterr().err
    assert not world.settings.models_dir.exists() or not any(world.settings.models_dir.iterdir())
    args = ["build-from-gallery", "--name", "m", "--detector", "patchcore", "--product", "BEANS-400",
            "--username", "admin", "--password-stdin"]
    world.station.products.create(world.admin, "EMPTY-1", "Nothing yet", world.warehouse_id, 10,
                                  DEFAULT_SIDE_NAMES)
    args[args.index("BEANS-400")] = "EMPTY-1"
    assert run(world, args) == 1
    assert "Not enough labelled images" in capsys.readouterr().err
    assert world.station.models.list(world.admin) == []
