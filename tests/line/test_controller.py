"""The controller's own rules, driven through its API (the PLC servers only translate them): steps
counted by the station, a new product or a new can mid-can, camera settings the device refuses,
products the line cannot inspect."""
from __future__ import annotations

import pytest

from core.sides import DEFAULT_SIDE_NAMES
from line.config import LineConfig
from line.errors import LineConfigInvalid, RequestRefused
from tests.line.conftest import line_config, running_line
from tests.line.test_faults import wait_published, wait_state


def test_step_zero_means_the_next_step_and_the_station_counts(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        steps = [controller.trigger(0).result(30) for _ in range(7)]
        wait_published(controller, 1)
    assert [s.step for s in steps] == list(range(1, 8))
    assert len({s.can_id for s in steps}) == 1 and steps[0].sides == (DEFAULT_SIDE_NAMES[0],)
    assert controller.history[-1].reason == ""


def test_a_new_can_or_product_mid_can_ends_the_open_can_in_review(line_world):
    admin, station = line_world.admin, line_world.station
    other = station.products.create(admin, "PEAS-800", "Peas 800 g",
                                    station.products.get(admin, line_world.product_id).warehouse_id,
                                    10, DEFAULT_SIDE_NAMES,
                                    model_id=station.products.get(admin, line_world.product_id)
                                    .model_id)
    with running_line(line_world, line_config(line_world)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        controller.trigger(1).result(30)
        controller.trigger(2).result(30)
        controller.trigger(1).result(30)                 # the PLC starts over
        wait_published(controller, 1)
        controller.select_product(other.sku).result(30)  # another product mid-can
        wait_published(controller, 2)
        wait_state(controller, "ready")
        assert controller.status().product_sku == "PEAS-800"
    first, second = controller.history[0], controller.history[1]
    assert first.verdict.value == "review" and "new can at step 1 after step 2 of 7" in first.reason
    assert second.verdict.value == "review" and "selected product PEAS-800" in second.reason
    assert second.side_outcomes[1:] == ("missing",) * 6


def test_camera_settings_the_device_refuses_put_the_line_in_error_with_the_reason(line_world):
    data = {"cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000",
                                      "emulator_images": str(line_world.photos),
                                      "roi": [0, 0, 9000, 640]}},
            "recipes": {"*": {"camera": "turntable"}}}
    with running_line(line_world, LineConfig.from_dict(data)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "error")
        assert "roi width: 9000" in controller.status().message
        with pytest.raises(RequestRefused, match="roi width"):
            controller.trigger(1).result(30)
    assert not controller.history             # no can was opened, none left dangling


def test_products_the_line_cannot_inspect_are_refused_at_selection(line_world):
    admin, station = line_world.admin, line_world.station
    w = station.products.get(admin, line_world.product_id).warehouse_id
    station.products.create(admin, "NO-MODEL", "No model", w, 1, DEFAULT_SIDE_NAMES)
    other_sides = [f"S{i}" for i in range(7)]
    station.products.create(admin, "ODD", "Other sides", w, 1, other_sides,
                            model_id=station.products.get(admin, line_world.product_id).model_id)
    data = {"cameras": {"turntable": {"kind": "pylon", "serial": "0815-0000"}},
            "recipes": {"ODD": {"steps": [{"turntable": "Lid"}]}, "*": {"camera": "turntable"}}}
    with running_line(line_world, LineConfig.from_dict(data)) as controller:
        with pytest.raises(RequestRefused, match="no active model") as err:
            controller.select_product("NO-MODEL").result(30)
        assert err.value.code == "no-model"
        with pytest.raises(LineConfigInvalid, match="no step for S0"):
            controller.select_product("ODD").result(30)
        with pytest.raises(RequestRefused, match="no product with the SKU 'X-1'"):
            controller.select_product("X-1").result(30)
        assert controller.status().state.value == "idle"


def test_several_cameras_each_fill_their_sides_in_one_trigger(line_world, tmp_path):
    """Two cameras around the can: each trigger takes one picture per camera; the sides land
    where the recipe says (checked against a direct inspection of the same photos)."""
    from core.model.io import load_model
    from core.verdict import inspect_can
    from tests.line.conftest import CANS, DEFECT, GOOD

    names = DEFAULT_SIDE_NAMES
    plan = {"left": [names[0], names[2], names[4], names[6]], "right": [names[1], names[3], names[5]]}
    photo_of = {side: CANS / "good" / GOOD[i] for i, side in enumerate(names)}
    photo_of[names[3]] = CANS / "defect" / DEFECT
    folders = {}
    for camera, sides in plan.items():
        folder = tmp_path / camera
        folder.mkdir()
        for i, side in enumerate(sides):
            (folder / f"{i:02d}.jpg").symlink_to(photo_of[side])
        folders[camera] = folder
    steps = [{"left": plan["left"][i], **({"right": plan["right"][i]} if i < 3 else {})}
             for i in range(4)]
    config = LineConfig.from_dict({
        "cameras": {"left": {"kind": "pylon", "serial": "0815-0001",
                             "emulator_images": str(folders["left"])},
                    "right": {"kind": "pylon", "serial": "0815-0002", "pixel_format": "colour",
                              "emulator_images": str(folders["right"])}},
        "recipes": {line_world.sku: {"steps": steps}}})
    with running_line(line_world, config) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        done = [controller.trigger(k).result(30) for k in range(1, 5)]
        wait_published(controller, 1)
    assert [d.sides for d in done] == [tuple(s.values()) for s in steps]
    want = inspect_can(load_model(line_world.model_folder), [photo_of[s] for s in names], names)
    got = controller.history[-1]
    assert got.side_outcomes == tuple(s.outcome.value for s in want.sides)
    assert got.side_scores == pytest.approx([s.score for s in want.sides], abs=1e-4)
