"""A detector kind added to the catalogue appears in the Models panel's build dialog, with its
options, and the panel's build job trains and registers it through the common path."""
from __future__ import annotations

from app.model_jobs import BuildRequest
from db import Role
from gui.models.build_dialog import BuildDialog
from gui.models.panel import ModelsPanel
from tests.helpers import make_synthetic_cans
from tests.toy_detector import toy_detector


def test_the_build_dialog_offers_a_toy_kind_and_its_options(qtbot, world, tmp_path):
    with toy_detector(tmp_path / "pkg") as entry:
        dialog = BuildDialog(world.station.products.list(world.admin))
        qtbot.addWidget(dialog)
        kinds = [dialog.detector.itemData(i) for i in range(dialog.detector.count())]
        assert "toy" in kinds
        dialog.detector.setCurrentIndex(kinds.index("toy"))
        assert dialog.detector.currentText() == entry.label
        dialog.options.field("gain").setValue(3.0)
        dialog.name.setText("dark")
        dialog.folder.setText(str(tmp_path))
        request = dialog.request()
        assert (request.detector, dict(request.options)) == ("toy", {"gain": 3.0})
    closed = BuildDialog(world.station.products.list(world.admin))
    qtbot.addWidget(closed)
    assert "toy" not in [closed.detector.itemData(i) for i in range(closed.detector.count())]


def test_the_panel_builds_and_registers_a_toy_model(qtbot, make_ctx, world, tmp_path):
    models_panel = ModelsPanel(make_ctx(Role.ADMIN))
    qtbot.addWidget(models_panel)
    data = make_synthetic_cans(tmp_path / "data", n_good=6, n_defect=4, size=32, seed=9)
    with toy_detector(tmp_path / "pkg"):
        handle = models_panel.start_build(BuildRequest(name="dark", source="folder",
                                                       folder=str(data), detector="toy",
                                                       options={"gain": 2.0}))
        assert handle is not None
        qtbot.waitUntil(lambda: models_panel.job is None, timeout=60000)
    assert "built and registered" in models_panel.message.text(), models_panel.message.text()
    (model,) = world.station.models.list(world.admin)
    assert (model.name, model.kind) == ("dark", "toy")
