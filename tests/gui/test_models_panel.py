"""The Models panel driven as an admin would: build a model from a folder, cancel a training,
evaluate with charts whose thresholds move and save, activate for products; the gallery as a
source with corrections overriding the machine's labels."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from PyQt5.QtCore import Qt

from app.model_jobs import BuildRequest, NotEnoughImages, collect_samples
from core.model.spec import read_spec
from core.scoring.can_target import can_target_record
from db import Role
from gui.models.build_dialog import BuildDialog
from gui.models.charts import outcome_matrix
from gui.models.panel import ModelsPanel
from tests.gui.conftest import record_inspection
from tests.helpers import make_synthetic_cans


@pytest.fixture
def panel(qtbot, make_ctx):
    p = ModelsPanel(make_ctx(Role.ADMIN))
    qtbot.addWidget(p)
    p.resize(1200, 800)
    yield p
    if p.job is not None:
        p.job.cancel()
        p.job.wait(30000)


def register(world, folder) -> int:
    spec = read_spec(folder)
    return world.station.models.register(world.admin, "tiny", str(folder), spec.kind, spec.backbone,
                                         spec.version, spec.metrics, spec.thresholds.to_dict(),
                                         spec.trained_on).id


@pytest.mark.slow
def test_builds_a_model_from_a_folder_and_registers_it(qtbot, panel, world, tmp_path):
    data = make_synthetic_cans(tmp_path / "data", n_good=8, n_defect=8, size=64, seed=2)
    progress: list = []
    handle = panel.start_build(BuildRequest(name="Beans line 1", source="folder", folder=str(data),
                                            input_size=64, options={"epochs": 2},
                                            can_false_reject=0.01))
    handle.progress.connect(lambda d, t, m: progress.append((d, t, m)))
    assert panel.cancel_button.isVisibleTo(panel) and not panel.build_button.isEnabled()
    qtbot.waitUntil(lambda: panel.job is None, timeout=240000)
    assert "built and registered" in panel.message.text(), panel.message.text()
    models = world.station.models.list(world.admin)
    assert len(models) == 1 and models[0].name == "Beans line 1"
    folder = world.settings.models_dir / f"beans-line-1-{models[0].version}"
    assert models[0].folder == str(folder) and (folder / "model.json").is_file()
    assert read_spec(folder).trained_on["source"] == str(data)
    target = can_target_record(read_spec(folder))            # the admin's can-level target
    assert target["target"] == 0.01 and models[0].thresholds["reject"] == target["reject"]
    assert panel.table.rowCount() == 1 and panel.selected_model().id == models[0].id
    assert progress and any("epoch" in m for _, _, m in progress)


@pytest.mark.slow
def test_cancelling_a_training_saves_and_registers_nothing(qtbot, panel, world, tmp_path):
    data = make_synthetic_cans(tmp_path / "data", n_good=8, n_defect=8, size=64, seed=2)
    handle = panel.start_build(BuildRequest(name="never", source="folder", folder=str(data),
                                            input_size=64, options={"epochs": 500}))
    seen: list = []
    handle.progress.connect(lambda d, t, m: seen.append(m))
    qtbot.waitUntil(lambda: any("epoch" in m for m in seen), timeout=240000)  # mid-training
    qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=60000)
    assert "cancelled; nothing was saved" in panel.message.text()
    assert world.station.models.list(world.admin) == []
    models_dir = world.settings.models_dir
    assert not models_dir.exists() or not any(models_dir.iterdir())
    assert panel.build_button.isEnabled()


def test_evaluation_charts_follow_the_thresholds_and_save_them(qtbot, panel, world, tiny_model,
                                                               tmp_path):
    model_id = register(world, tiny_model)
    panel.refresh(select_id=model_id)
    data = make_synthetic_cans(tmp_path / "eval", n_good=6, n_defect=6, size=128, seed=9)
    panel.start_evaluation(str(data))
    qtbot.waitUntil(lambda: panel.job is None, timeout=120000)
    charts = panel.charts
    assert charts.labels.size == 12, panel.message.text()
    assert charts.matrix().sum() == 12 and charts.matrix()[0].sum() == 6
    assert not panel.save_thresholds_button.isEnabled()  # nothing moved yet

    before = charts.matrix().copy()
    charts.review_box.setValue(0.0)  # everything from 0 to reject goes to a person
    assert charts.matrix()[:, 0].sum() == int((charts.scores < 0).sum())
    assert charts.matrix()[:, 1].sum() >= before[:, 1].sum()
    assert charts.review_share() == pytest.approx(charts.matrix()[:, 1].sum() / 12)
    assert "Review share" in charts.summary.text()

    # drag the reject line to 0.9 on the histogram, as the mouse would
    canvas, ax = charts.canvas, charts.ax_hist
    canvas.draw()
    reject = charts.thresholds().reject
    for name, x in (("button_press_event", reject), ("motion_notify_event", 0.9),
                    ("button_release_event", 0.9)):
        px, py = ax.transData.transform((x, ax.get_ylim()[1] / 2))
        canvas.callbacks.process(name, MouseEvent(name, canvas, px, py, button=1))
    assert charts.thresholds().reject == pytest.approx(0.9, abs=0.01)
    assert np.array_equal(charts.matrix(), outcome_matrix(charts.labels, charts.scores, 0.0,
                                                          charts.thresholds().reject))
    assert charts._lines["reject"].get_xdata()[0] == pytest.approx(charts.thresholds().reject)

    assert panel.save_thresholds_button.isEnabled()
    qtbot.mouseClick(panel.save_thresholds_button, Qt.LeftButton)
    saved = world.station.models.get(world.admin, model_id).thresholds
    assert saved == {"review": 0.0, "reject": charts.thresholds().reject}
    assert "saved" in panel.message.text()
    assert not panel.save_thresholds_button.isEnabled()


def test_outcome_matrix_counts_by_the_thresholds_rule():
    labels = np.array([0, 0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.45, 0.7, 0.3, 0.5, 0.95])
    assert outcome_matrix(labels, scores, 0.4, 0.6).tolist() == [[1, 1, 1], [1, 1, 1]]
    assert outcome_matrix(labels, scores, 0.5, 0.5).tolist() == [[2, 0, 1], [1, 0, 2]]


def test_activation_makes_the_model_the_products_model(qtbot, panel, world, tiny_model, tmp_path):
    model_id = register(world, tiny_model)
    panel.refresh(select_id=model_id)
    panel.start_evaluation(str(make_synthetic_cans(tmp_path / "new", 3, 3, size=128, seed=5)))
    qtbot.waitUntil(lambda: panel.job is None, timeout=120000)
    assert panel.activate_button.isEnabled()
    dialog = panel.activation_dialog()
    qtbot.addWidget(dialog)
    dialog.set_checked({world.product_id})
    assert dialog.chosen() == [world.product_id] and dialog.confirmed()
    panel.activate(dialog.chosen(), confirmed=dialog.confirmed())
    qtbot.waitUntil(lambda: panel.job is None, timeout=30000)
    assert world.station.models.active_for_product(world.admin, world.product_id).id == model_id
    assert panel.table.item(0, 6).text() == "BEANS-400"
    again = panel.activation_dialog()
    qtbot.addWidget(again)
    assert again.chosen() == []  # already active there: nothing to do
    assert not again.activate_button.isEnabled()


def test_the_gallery_is_a_source_and_corrections_override_labels(world):
    ids = [record_inspection(world, world.operator, "reject", seed=s) for s in range(3)]
    info = world.station.inspections.get(world.admin, ids[0])
    flagged = next(s for s in info.sides if s.label == "Anomaly")
    world.station.corrections.correct_side(world.supervisor, flagged.id, "Good", "scratch on film")
    request = BuildRequest(name="g", source="gallery", product_id=world.product_id)
    samples = collect_samples(request, world.station, world.admin)
    assert len(samples) == 21
    by_path = {str(s.source): s.label for s in samples}
    assert by_path[str(flagged.image_path)] == 0          # the correction wins
    assert sum(s.label for s in samples) == 2             # the other cans' defects stay
    with pytest.raises(NotEnoughImages, match="Not enough labelled images"):
        collect_samples(BuildRequest(name="g", source="gallery", product_id=world.product_id + 99),
                        world.station, world.admin)


def test_a_folder_and_the_gallery_together_are_a_source(world, tmp_path):
    """Commissioning a product: its own labelled sides from the gallery added to a data set."""
    from app.model_jobs import describe_source, gallery_samples

    for s in range(2):
        record_inspection(world, world.operator, "pass", seed=s)
    folder = make_synthetic_cans(tmp_path / "set", n_good=3, n_defect=4, size=64)
    # the product's good cans alone cannot train a CAM model; with a data set's defects they can
    with pytest.raises(NotEnoughImages, match="0 defective"):
        collect_samples(BuildRequest(name="g", source="gallery", product_id=world.product_id),
                        world.station, world.admin)
    gallery = gallery_samples(world.station, world.admin, world.product_id)
    assert len(gallery) == 14 and not any(s.label for s in gallery)
    both_request = BuildRequest(name="g", source="both", folder=str(folder), product_id=world.product_id)
    both = collect_samples(both_request, world.station, world.admin)
    assert len(both) == 7 + len(gallery)
    assert [str(s.source) for s in both[7:]] == [str(s.source) for s in gallery]
    assert sum(s.label for s in both[:7]) == 4 and all(str(folder) in str(s.source) for s in both[:7])
    assert describe_source(both_request) == f"{folder} + gallery (product {world.product_id})"
    with pytest.raises(ValueError, match="unknown source"):
        collect_samples(BuildRequest(name="g", source="everything"), world.station, world.admin)


def test_build_dialog_checks_its_fields_and_offers_the_catalogues_choices(qtbot, world):
    from core.detectors import catalogue

    dialog = BuildDialog(world.station.products.list(world.admin))
    qtbot.addWidget(dialog)
    kinds = [dialog.detector.itemData(i) for i in range(dialog.detector.count())]
    assert kinds == list(catalogue.kinds())
    backbones = [dialog.backbone.itemText(i) for i in range(dialog.backbone.count())]
    assert backbones == list(catalogue.get("cam").backbones)
    dialog.detector.setCurrentIndex(kinds.index("patchcore"))   # accepts one backbone, no epochs
    assert dialog.backbone.count() == 1 and dialog.request().backbone == "efficientnet_lite0"
    assert dialog.request().options == catalogue.get("patchcore").defaults() | {"layers": (2, 3)}
    dialog.options.field("layers").setText("2, x")
    assert "layers" in dialog.validation_error()
    dialog.detector.setCurrentIndex(kinds.index("cam"))
    dialog.options.field("epochs").setValue(7)
    assert dialog.request().options["epochs"] == 7
    assert dialog.validation_error() == "Give the model a name."
    dialog.name.setText("m")
    assert "folder" in dialog.validation_error()
    dialog.from_gallery.setChecked(True)
    dialog.product.setCurrentIndex(1)
    assert dialog.validation_error() == ""
    r = dialog.request()
    assert (r.source, r.product_id, r.detector) == ("gallery", world.product_id, "cam")
    assert r.can_false_reject is None                          # the usual calibration
    dialog.can_target.setValue(1.0)
    assert dialog.request().can_false_reject == pytest.approx(0.01)
    dialog.from_both.setChecked(True)                          # a data set and the gallery
    assert dialog.folder.isEnabled() and dialog.product.isEnabled()
    assert "folder" in dialog.validation_error()
    dialog.folder.setText("/data/cans")
    assert dialog.validation_error() == ""
    r = dialog.request()
    assert (r.source, r.folder, r.product_id) == ("both", "/data/cans", world.product_id)
    dialog.from_folder.setChecked(True)
    assert dialog.folder.isEnabled() and not dialog.product.isEnabled()
    dialog.from_gallery.setChecked(True)
    assert not dialog.folder.isEnabled() and dialog.product.isEnabled()


def test_the_backdrop_check_runs_with_the_evaluation_and_is_stored(qtbot, panel, world, tiny_model,
                                                                  tmp_path):
    from core.evaluation.backdrop import KINDS, backdrop_check
    from core.model.io import load_model
    from core.scoring.calibration import Thresholds
    from core.training import scan_dataset

    model_id = register(world, tiny_model)
    panel.refresh(select_id=model_id)
    data = make_synthetic_cans(tmp_path / "eval", n_good=4, n_defect=3, size=128, seed=9)
    panel.backdrop_box.setChecked(True)
    panel.start_evaluation(str(data))
    assert not panel.backdrop_box.isEnabled()             # not while the job runs
    qtbot.waitUntil(lambda: panel.job is None, timeout=240000)
    assert panel.backdrop_box.isEnabled()
    stored = world.station.models.evaluations(world.admin, model_id)[0].data["backdrop_check"]
    # The same check run directly on the same model, folder and seed gives the same counts.
    info = world.station.models.get(world.admin, model_id)
    model = load_model(tiny_model).with_thresholds(Thresholds.from_dict(info.thresholds))
    direct = backdrop_check(model, scan_dataset(data)).to_dict()
    for key in ("images", "skipped_no_can", "repaints", "verdicts_changed", "changes"):
        assert stored[key] == direct[key], key
    assert stored["images"] == 4 and stored["skipped_no_can"] == 0     # the drawn cans are found
    assert stored["repaints"] == len(KINDS) * 4
    assert stored["thresholds"] == {"review": info.thresholds["review"], "reject": info.thresholds["reject"]}
    rows = {r[0]: r for r in panel.view.rows()}
    row = rows["Backdrop check: verdicts changed"]
    assert row[1].startswith(f"{stored['verdicts_changed']} of {stored['repaints']} ")
    assert (f"Backdrop check: {stored['verdicts_changed']} of {stored['repaints']} verdicts changed"
            in panel.message.text())
    # Without the box, the evaluation stores no check.
    panel.backdrop_box.setChecked(False)
    panel.start_evaluation(str(data))
    qtbot.waitUntil(lambda: panel.job is None, timeout=240000)
    assert "backdrop_check" not in world.station.models.evaluations(world.admin, model_id)[0].data
    assert "Backdrop check" not in panel.message.text()
    assert "Backdrop check: verdicts changed" not in {r[0] for r in panel.view.rows()}
