"""The Models panel cannot mislead (issue 11 item 7): a model's own thresholds before any evaluation,
no charts of another model, figures with the images they rest on and their intervals, activation
behind a stored evaluation on new images (or an explicit confirmation), one transaction, rollback."""
from __future__ import annotations

import pytest

from core.model.spec import read_spec
from core.scoring.can_target import reject_for_can_target
from core.sides import DEFAULT_SIDE_NAMES
from db import Role
from gui.models.panel import ModelsPanel
from tests.helpers import make_synthetic_cans


@pytest.fixture(scope="session")
def new_images(tmp_path_factory):
    """Cans the tiny model never saw."""
    return make_synthetic_cans(tmp_path_factory.mktemp("new"), n_good=6, n_defect=6, size=128, seed=9)


def _panel(qtbot, make_ctx) -> ModelsPanel:
    p = ModelsPanel(make_ctx(Role.ADMIN))
    qtbot.addWidget(p)
    p.resize(1366, 768)
    return p


@pytest.fixture
def panel(qtbot, make_ctx):
    p = _panel(qtbot, make_ctx)
    yield p
    if p.job is not None:
        p.job.cancel()
        p.job.wait(30000)


def register(world, folder, name="tiny", version=None, thresholds=None) -> int:
    spec = read_spec(folder)
    return world.station.models.register(
        world.admin, name, str(folder), spec.kind, spec.backbone, version or spec.version,
        spec.metrics, thresholds or spec.thresholds.to_dict(), spec.trained_on).id


def evaluate(qtbot, panel, folder) -> None:
    panel.start_evaluation(str(folder))
    qtbot.waitUntil(lambda: panel.job is None, timeout=120000)
    assert "Evaluated on" in panel.message.text(), panel.message.text()


def test_threshold_boxes_show_the_models_own_values_before_any_evaluation(panel, world, tiny_model):
    model_id = register(world, tiny_model, thresholds={"review": 0.35, "reject": 0.72})
    panel.refresh(select_id=model_id)
    t = panel.charts.thresholds()
    assert (t.review, t.reject) == (0.35, 0.72)
    assert not panel.save_thresholds_button.isEnabled()
    assert "Not evaluated on other images yet" in panel.view.status.text()


def test_charts_and_figures_belong_to_the_selected_model_only(qtbot, panel, world, tiny_model,
                                                              new_images):
    a = register(world, tiny_model, name="a")
    b = register(world, tiny_model, name="b", thresholds={"review": 0.3, "reject": 0.8})
    panel.refresh(select_id=a)
    evaluate(qtbot, panel, new_images)
    assert panel.charts.labels.size == 12 and panel.view.rows()
    panel.select_model(b)
    assert panel.charts.labels.size == 0 and not panel.charts.placeholder.isHidden()
    assert panel.charts.canvas.isHidden()
    assert panel.view.rows() == [] and (panel.charts.thresholds().review,
                                        panel.charts.thresholds().reject) == (0.3, 0.8)
    panel.select_model(a)                           # a's evaluation comes back from the database
    assert panel.charts.labels.size == 12 and panel.view.rows()


def test_figures_say_what_they_rest_on_with_intervals_and_warnings(qtbot, panel, world, tiny_model,
                                                                   new_images):
    model_id = register(world, tiny_model)
    panel.refresh(select_id=model_id)
    validation = panel.table.item(0, 4).text()          # e.g. "... 1.000 (0.79–1.00) on 6 good, 6 defective"
    assert "–" in validation and "on 6 good, 6 defective (too few to trust)" in validation
    evaluate(qtbot, panel, new_images)
    rows = {r[0]: r for r in panel.view.rows()}
    auroc = rows["Image AUROC"]
    low, high = (float(v) for v in auroc[2].split(" – "))
    assert low < float(auroc[1]) <= high <= 1.0 and low < 0.95     # 12 images cannot prove 1.000
    assert auroc[3].startswith("6 good, 6 defective") and "too few (under 20 good)" in auroc[3]
    cans = rows["Good cans rejected (per 1000)"]
    assert cans[3].startswith("6 good —") and " – " in cans[2]
    assert float(cans[2].split(" – ")[1]) > 300          # 6 good sides allow many good cans rejected
    assert "None of them was used in its training" in panel.message.text()
    # The figures follow the thresholds: rejecting from 0.5 flags at least as many good sides.
    before = rows["Good sides rejected"][1]
    panel.charts.reject_box.setValue(0.5)
    after = {r[0]: r for r in panel.view.rows()}["Good sides rejected"][1]
    assert int(after.split()[0]) >= int(before.split()[0])


def test_a_can_level_target_sets_the_reject_threshold_from_the_evaluation(qtbot, panel, world,
                                                                          tiny_model, new_images):
    model_id = register(world, tiny_model)
    panel.refresh(select_id=model_id)
    assert not panel.view.target_button.isEnabled()      # nothing to calibrate on yet
    evaluate(qtbot, panel, new_images)
    panel.view.target.setValue(1.0)
    panel.view.target_button.click()
    good = panel.charts.scores[panel.charts.labels == 0]
    expected = reject_for_can_target(good, 0.01)
    assert panel.charts.thresholds().reject == pytest.approx(expected.reject, abs=1e-3)
    assert "no side rate below 1/6" in panel.view.target_note.text()
    if expected.reject != round(read_spec(tiny_model).thresholds.reject, 3):
        assert panel.save_thresholds_button.isEnabled()


def test_activation_needs_an_evaluation_on_images_the_model_was_not_trained_on(
        qtbot, panel, world, tiny_model, make_ctx):
    model_id = register(world, tiny_model)
    panel.refresh(select_id=model_id)
    assert panel.activation_dialog() is None
    assert "has not been evaluated" in panel.message.text()
    assert panel.activate([world.product_id], confirmed=True) is None
    assert world.station.models.active_for_product(world.admin, world.product_id) is None

    evaluate(qtbot, panel, tiny_model.parent / "data")    # its own training images
    assert "48 of them were used in its training" in panel.message.text()
    dialog = panel.activation_dialog()
    qtbot.addWidget(dialog)
    assert dialog.accept_box.isVisibleTo(dialog) and "optimistic" in dialog.gate_text.text()
    assert "good cans rejected per 1000" in dialog.figures_text.text()
    dialog.set_checked({world.product_id})
    assert not dialog.activate_button.isEnabled()        # needs the explicit confirmation
    dialog.accept_box.setChecked(True)
    assert dialog.activate_button.isEnabled() and dialog.confirmed()
    assert panel.activate([world.product_id]) is None     # unconfirmed: refused
    assert "optimistic" in panel.message.text()

    # The gate is stored: a panel opened after a restart finds the same evaluation.
    later = _panel(qtbot, make_ctx)
    later.refresh(select_id=model_id)
    assert later.activation_gate().needs_confirmation and later.charts.labels.size == 48
    later.activate([world.product_id], confirmed=True)
    qtbot.waitUntil(lambda: later.job is None, timeout=30000)
    assert world.station.models.active_for_product(world.admin, world.product_id).id == model_id


def test_activation_is_one_transaction_and_rollback_is_one_click_away(qtbot, panel, world,
                                                                      tiny_model, new_images):
    old = register(world, tiny_model, name="old")
    new = register(world, tiny_model, name="new")
    other = world.station.products.create(world.admin, "PEAS-200", "Peas 200 g", world.warehouse_id,
                                          10, DEFAULT_SIDE_NAMES).id
    world.station.models.activate(world.admin, old, [world.product_id, other])
    panel.refresh(select_id=new)
    evaluate(qtbot, panel, new_images)
    assert not panel.activation_gate().needs_confirmation
    dialog = panel.activation_dialog()
    qtbot.addWidget(dialog)
    assert not dialog.accept_box.isVisibleTo(dialog) and "replaces its current model" in \
        dialog.list.item(0).text()

    panel.activate([world.product_id, 987654])            # one unknown product: nothing switches
    qtbot.waitUntil(lambda: panel.job is None, timeout=30000)
    assert "987654 does not exist" in panel.message.text() and world.station.models.active_for_product(
        world.admin, world.product_id).id == old

    panel.activate([world.product_id, other])
    qtbot.waitUntil(lambda: panel.job is None, timeout=30000)
    assert {world.station.models.active_for_product(world.admin, p).id
            for p in (world.product_id, other)} == {new}
    assert "Roll back" in panel.message.text() and panel.rollback_button.isEnabled()
    choices = dict(panel.rollback_choices())
    assert set(choices) == {world.product_id, other} and "back to old" in choices[other]
    panel.rollback(other)
    qtbot.waitUntil(lambda: panel.job is None, timeout=30000)
    assert world.station.models.active_for_product(world.admin, other).id == old
    assert world.station.models.active_for_product(world.admin, world.product_id).id == new
    assert "Peas 200 g (PEAS-200) is inspected with old" in panel.message.text()
