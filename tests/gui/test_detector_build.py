"""The build dialog offers issue 13's detectors with their options from the catalogue, and a
cascade (gate and heavy named by folder) is built, saved and registered through the app layer."""
from __future__ import annotations

from pathlib import Path

from app.model_jobs import BuildRequest, build_and_register
from core.detectors import catalogue
from core.model.io import load_model
from core.progress import Progress
from core.training import TrainConfig, scan_dataset, train_model
from gui.models.build_dialog import BuildDialog
from tests.scratches import make_scratch_set

SIZE = 64


def test_segdec_classical_and_cascade_in_the_build_dialog(qtbot, world, tmp_path: Path):
    dialog = BuildDialog(world.station.products.list(world.admin))
    qtbot.addWidget(dialog)
    kinds = [dialog.detector.itemData(i) for i in range(dialog.detector.count())]
    assert {"segdec", "classical", "cascade"} <= set(kinds)
    dialog.detector.setCurrentIndex(kinds.index("segdec"))
    assert dialog.request().options == catalogue.get("segdec").defaults()
    dialog.detector.setCurrentIndex(kinds.index("cascade"))
    dialog.options.field("gate").setText(str(tmp_path / "gate"))
    dialog.options.field("heavy").setText(str(tmp_path / "heavy"))
    options = dialog.request().options
    assert options["gate"] == str(tmp_path / "gate") and options["heavy"] == str(tmp_path / "heavy")


def test_the_options_fields_line_up_with_the_dialogs_own(qtbot, world):
    dialog = BuildDialog(world.station.products.list(world.admin))
    qtbot.addWidget(dialog)
    kinds = [dialog.detector.itemData(i) for i in range(dialog.detector.count())]
    for kind in ("cam", "segdec"):           # also after the detector, and so the rows, changed
        dialog.detector.setCurrentIndex(kinds.index(kind))
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.wait(20)                       # the new rows are laid out
        own = dialog.name.mapTo(dialog, dialog.name.rect().topLeft()).x()
        fields = [dialog.options.field(o.name) for o in catalogue.get(kind).options]
        assert fields and {f.mapTo(dialog, f.rect().topLeft()).x() for f in fields} == {own}


def test_a_cascade_is_built_and_registered_from_a_folder(world, tmp_path: Path):
    good = make_scratch_set(tmp_path / "good", n_good=8, n_defect=0, masks=0, size=SIZE, seed=1)
    parts = {}
    for name, quantile in (("gate", 0.99), ("heavy", 0.999)):
        config = TrainConfig(detector="classical", input_size=SIZE).with_options({"pixel_quantile": quantile})
        parts[name] = tmp_path / "parts" / name
        train_model(scan_dataset(good), config, Progress(), name).save(parts[name])
    cal = make_scratch_set(tmp_path / "cal", n_good=6, n_defect=6, masks=0, size=SIZE, seed=2)
    request = BuildRequest(name="fast line", source="folder", folder=str(cal), detector="cascade",
                           options={"gate": str(parts["gate"]), "heavy": str(parts["heavy"])})
    info = build_and_register(Progress(), world.station, world.admin, tmp_path / "models", request)
    assert info.kind == "cascade"
    model = load_model(info.folder)
    assert type(model).__name__ == "CascadeModel"
    assert model.gate_folder == parts["gate"].resolve() and model.heavy_folder == parts["heavy"].resolve()
