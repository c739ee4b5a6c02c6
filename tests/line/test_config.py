"""line.json: what it accepts, and refusals that name the field and say what to write."""
from __future__ import annotations

import json

import pytest

from line.cameras import TriggerMode
from line.config import LineConfig
from line.errors import LineConfigInvalid

SIDES = ("Lid", "Bottom", "Body 0°")


def base(**over) -> dict:
    data = {
        "cameras": {
            "left": {"kind": "pylon", "serial": "21000001", "exposure_us": 800, "gain_db": 1.5,
                     "pixel_format": "mono", "roi": [0, 0, 1280, 1024], "trigger": "hardware",
                     "trigger_line": "Line1"},
            "usb": {"kind": "opencv", "device": 0},
        },
        "recipes": {
            "BEANS-400": {"steps": [{"left": "Lid", "usb": "Bottom"}, {"left": "Body 0°"}]},
            "*": {"camera": "usb"},
        },
        "timing": {"deadline_ms": 800, "step_timeout_s": 5},
        "opcua": {"port": 4841, "security": "sign"},
        "modbus": {"enabled": True, "port": 1502, "products": {"3": "BEANS-400"}},
    }
    data.update(over)
    return data


def test_a_full_configuration_reads_back():
    c = LineConfig.from_dict(base())
    left = c.cameras["left"]
    assert (left.kind, left.serial, left.settings.exposure_us, left.settings.gain_db) == \
        ("pylon", "21000001", 800.0, 1.5)
    assert left.settings.trigger is TriggerMode.HARDWARE and left.settings.roi == (0, 0, 1280, 1024)
    assert c.cameras["usb"].device == "0" and c.cameras["usb"].settings.trigger is \
        TriggerMode.FREE_RUN
    assert c.recipe("BEANS-400").steps_for(SIDES, "BEANS-400") == (
        (("left", "Lid"), ("usb", "Bottom")), (("left", "Body 0°"),))
    # the turning fixture: one step per side, in the product's order
    assert c.recipe("OTHER").steps_for(SIDES, "OTHER") == (
        (("usb", "Lid"),), (("usb", "Bottom"),), (("usb", "Body 0°"),))
    assert (c.deadline_ms, c.step_timeout_s, c.opcua.port, c.opcua.security) == (800, 5.0, 4841,
                                                                                   "sign")
    assert c.modbus.enabled and c.modbus.products == {3: "BEANS-400"}


def test_defaults_are_safe():
    c = LineConfig.from_dict({"cameras": {"c": {"kind": "pylon"}}, "recipes": {"*": {"camera": "c"}}})
    assert c.opcua.enabled and c.opcua.security == "sign-encrypt"
    assert not c.modbus.enabled
    assert c.cameras["c"].settings.trigger is TriggerMode.SOFTWARE


@pytest.mark.parametrize("change, field", [
    ({"cameras": {}}, "cameras"),
    ({"cameras": {"x": {"kind": "gige"}}}, "cameras.x.kind"),
    ({"cameras": {"x": {"kind": "pylon", "trigger": "sometimes"}}}, "cameras.x.trigger"),
    ({"cameras": {"x": {"kind": "opencv", "trigger": "hardware"}}}, "cameras.x.trigger"),
    ({"cameras": {"x": {"kind": "pylon", "roi": [0, 0, -5, 10]}}}, "cameras.x.roi"),
    ({"cameras": {"x": {"kind": "pylon", "pixel_format": "bayer"}}}, "cameras.x.pixel_format"),
    ({"cameras": {"x": {"kind": "pylon", "exposure_us": "fast"}}}, "cameras.x.exposure_us"),
    ({"cameras": {"x": {"kind": "opencv", "emulator_images": "/tmp"}}}, "cameras.x.emulator_images"),
    ({"recipes": {"A": {"camera": "nope"}}}, "recipes.A"),
    ({"recipes": {"A": {"steps": []}}}, "recipes.A.steps"),
    ({"recipes": {"A": {"steps": [{"left": 3}]}}}, "recipes.A.steps[1]"),
    ({"timing": {"deadline_ms": 0}}, "timing.deadline_ms"),
    ({"opcua": {"security": "maybe"}}, "opcua.security"),
    ({"modbus": {"products": {"zero": "A"}}}, "modbus.products"),
    ({"format_version": 2}, "format_version"),
])
def test_refusals_name_the_field(change, field):
    data = base()
    for key, value in change.items():
        data[key] = value if key not in ("cameras",) or not value else {**value}
    if "recipes" not in change and "cameras" in change and change["cameras"]:
        data["recipes"] = {"*": {"camera": next(iter(change["cameras"]))}}
    with pytest.raises(LineConfigInvalid) as err:
        LineConfig.from_dict(data)
    assert err.value.field == field, str(err.value)


def test_a_recipe_must_fill_every_side_of_the_product_exactly_once():
    c = LineConfig.from_dict(base(recipes={"A": {"steps": [{"left": "Lid"}, {"usb": "Lid"}]}}))
    with pytest.raises(LineConfigInvalid, match="no step for Bottom, Body 0°"):
        c.recipe("A").steps_for(SIDES, "A")
    with pytest.raises(LineConfigInvalid, match="fills twice: Lid"):
        c.recipe("A").steps_for(("Lid",), "A")
    with pytest.raises(LineConfigInvalid, match="no recipe for product 'B'"):
        c.recipe("B")


def test_files_that_cannot_be_read_say_where(tmp_path):
    with pytest.raises(LineConfigInvalid, match="does not exist"):
        LineConfig.load(tmp_path / "line.json")
    (tmp_path / "line.json").write_text("{not json")
    with pytest.raises(LineConfigInvalid, match="not readable JSON") as err:
        LineConfig.load(tmp_path / "line.json")
    assert str(tmp_path) in str(err.value)
    (tmp_path / "line.json").write_text(json.dumps(base(timing={"deadline_ms": -1})))
    with pytest.raises(LineConfigInvalid) as err:
        LineConfig.load(tmp_path / "line.json")
    assert err.value.field == "timing.deadline_ms" and str(tmp_path) in str(err.value)
