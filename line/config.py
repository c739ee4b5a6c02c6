"""The line's configuration: ``<data folder>/line.json``, read and validated once at start.

It says which cameras there are, how each product's sides are captured (its recipe), the deadline,
and how the PLC talks to the station (OPC UA and/or Modbus TCP). A recipe is a list of steps; the
PLC triggers one step at a time and each step captures one picture per camera it names, each
picture filling one side::

    "recipes": {
      "BEANS-400": {"steps": [{"left": "front", "right": "back"}, {"left": "top", ...}, ...]},
      "*":         {"camera": "turntable"}     # one camera, one step per side, in the product's order
    }

``"*"`` applies to every product without a recipe of its own. Every side of the product must be
filled exactly once (checked when the PLC selects the product, because the side names live in the
database). The full format, with an example, is in docs/LINE.md.

Everything here is immutable and may be shared between threads.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from line.cameras.base import CameraSettings, TriggerMode
from line.errors import LineConfigInvalid

CONFIG_FILE = "line.json"
FORMAT_VERSION = 1
CAMERA_KINDS = ("pylon", "opencv")
SECURITY_MODES = ("none", "sign", "sign-encrypt")

Step = tuple[tuple[str, str], ...]          # ((camera, side), ...) captured by one trigger


@dataclass(frozen=True)
class CameraSpec:
    name: str
    kind: str                                # "pylon" | "opencv"
    settings: CameraSettings
    serial: str | None = None                # pylon: None = the first camera found
    device: str = "0"                        # opencv: index, URL or file
    emulator_images: str | None = None       # pylon emulator only: play this folder's images


@dataclass(frozen=True)
class Recipe:
    steps: tuple[Step, ...] = ()
    camera: str | None = None                # the turning-fixture shorthand

    def steps_for(self, side_names: Sequence[str], sku: str) -> tuple[Step, ...]:
        """The steps for a product with these sides; ``LineConfigInvalid`` unless every side is
        filled exactly once."""
        if self.camera is not None:
            return tuple(((self.camera, side),) for side in side_names)
        filled = [side for step in self.steps for _, side in step]
        missing = [s for s in side_names if s not in filled]
        unknown = [s for s in filled if s not in side_names]
        twice = sorted({s for s in filled if filled.count(s) > 1})
        for what, names in (("has no step for", missing), ("names sides the product does not have:",
                                                             unknown), ("fills twice:", twice)):
            if names:
                raise LineConfigInvalid(f"recipes.{sku}", f"the recipe {what} {', '.join(names)} "
                                        f"(the product's sides: {', '.join(side_names)}).")
        return self.steps


@dataclass(frozen=True)
class OpcUaConfig:
    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = 4840
    security: str = "sign-encrypt"           # "none" | "sign" | "sign-encrypt"
    certificate_dir: str | None = None       # default: <data folder>/line/opcua


@dataclass(frozen=True)
class ModbusConfig:
    enabled: bool = False
    host: str = "0.0.0.0"
    port: int = 502
    products: dict[int, str] = field(default_factory=dict)   # product code -> SKU


@dataclass(frozen=True)
class LineConfig:
    cameras: dict[str, CameraSpec]
    recipes: dict[str, Recipe]
    deadline_ms: int = 1500                  # last trigger -> verdict; later = REJECT
    step_timeout_s: float = 10.0             # no trigger for this long mid-can = PLC lost
    opcua: OpcUaConfig = OpcUaConfig()
    modbus: ModbusConfig = ModbusConfig()

    def recipe(self, sku: str) -> Recipe:
        found = self.recipes.get(sku) or self.recipes.get("*")
        if found is None:
            raise LineConfigInvalid("recipes", f"there is no recipe for product {sku!r} and no "
                                               "'*' recipe for every product.")
        return found

    @classmethod
    def load(cls, path: str | Path) -> LineConfig:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LineConfigInvalid("file", "it does not exist; write one as docs/LINE.md shows.",
                                    str(path)) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise LineConfigInvalid("file", f"it is not readable JSON ({exc}).", str(path)) from None
        try:
            return cls.from_dict(data)
        except LineConfigInvalid as exc:
            raise LineConfigInvalid(exc.field, str(exc).split(": ", 2)[-1], str(path)) from None

    @classmethod
    def from_dict(cls, data: Any) -> LineConfig:
        d = _Reader(data, "")
        if d.get("format_version", int, FORMAT_VERSION) != FORMAT_VERSION:
            raise LineConfigInvalid("format_version", f"this station reads version {FORMAT_VERSION}.")
        cameras = {name: _camera(name, _Reader(v, f"cameras.{name}"))
                   for name, v in d.get("cameras", dict, required=True).items()}
        if not cameras:
            raise LineConfigInvalid("cameras", "name at least one camera.")
        recipes = {sku: _recipe(_Reader(v, f"recipes.{sku}"), cameras)
                   for sku, v in d.get("recipes", dict, required=True).items()}
        t = _Reader(d.get("timing", dict, {}), "timing")
        o = _Reader(d.get("opcua", dict, {}), "opcua")
        m = _Reader(d.get("modbus", dict, {}), "modbus")
        security = o.get("security", str, "sign-encrypt")
        if security not in SECURITY_MODES:
            raise LineConfigInvalid("opcua.security", f"{security!r}: use one of {SECURITY_MODES}.")
        codes = {}
        for code, sku in m.get("products", dict, {}).items():
            if not str(code).isdigit() or not 1 <= int(code) <= 65535 or not isinstance(sku, str):
                raise LineConfigInvalid("modbus.products", "map codes 1..65535 to SKUs, e.g. "
                                                           '{"1": "BEANS-400"}.')
            codes[int(code)] = sku
        return cls(
            cameras=cameras, recipes=recipes,
            deadline_ms=t.number("deadline_ms", 1500, 1, 600_000, int),
            step_timeout_s=t.number("step_timeout_s", 10.0, 0.1, 3600, float),
            opcua=OpcUaConfig(enabled=o.get("enabled", bool, True), host=o.get("host", str, "0.0.0.0"),
                              port=o.number("port", 4840, 0, 65535, int), security=security,
                              certificate_dir=o.get("certificate_dir", str, None)),
            modbus=ModbusConfig(enabled=m.get("enabled", bool, False), host=m.get("host", str, "0.0.0.0"),
                                port=m.number("port", 502, 0, 65535, int), products=codes))


class _Reader:
    """Typed access to one JSON object, naming the field in every refusal."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise LineConfigInvalid(where or "file", "expected a JSON object.")
        self.data, self.where = data, where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type, default: Any = None, required: bool = False) -> Any:
        if key not in self.data:
            if required:
                raise LineConfigInvalid(self._name(key), "missing.")
            return default
        value = self.data[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise LineConfigInvalid(self._name(key), f"expected {kind.__name__}, got {value!r}.")
        return value

    def number(self, key: str, default: float, low: float, high: float, kind: type) -> Any:
        value = self.get(key, kind, default)
        if not low <= value <= high:
            raise LineConfigInvalid(self._name(key), f"{value} is outside {low}..{high}.")
        return value


def _camera(name: str, c: _Reader) -> CameraSpec:
    kind = c.get("kind", str, required=True)
    if kind not in CAMERA_KINDS:
        raise LineConfigInvalid(c._name("kind"), f"{kind!r}: use one of {CAMERA_KINDS}.")
    trigger = c.get("trigger", str, "software" if kind == "pylon" else "free-run")
    try:
        mode = TriggerMode(trigger)
    except ValueError:
        raise LineConfigInvalid(c._name("trigger"), f"{trigger!r}: use one of "
                                f"{[m.value for m in TriggerMode]}.") from None
    roi = c.get("roi", list, None)
    try:
        settings = CameraSettings(
            exposure_us=c.get("exposure_us", float, None), gain_db=c.get("gain_db", float, None),
            pixel_format=c.get("pixel_format", str, "colour"),
            roi=tuple(roi) if roi is not None else None, trigger=mode,
            trigger_line=c.get("trigger_line", str, "Line1"),
            frame_timeout_ms=c.get("frame_timeout_ms", int, 1000))
    except LineConfigInvalid as exc:
        if exc.field.startswith(c.where):
            raise
        raise LineConfigInvalid(c._name(exc.field), str(exc).split(": ", 2)[-1]) from None
    if kind == "opencv" and mode is TriggerMode.HARDWARE:
        raise LineConfigInvalid(c._name("trigger"), "an OpenCV camera has no trigger line; use "
                                                    "'free-run' or 'software', or a pylon camera.")
    images = c.get("emulator_images", str, None)
    if images is not None and kind != "pylon":
        raise LineConfigInvalid(c._name("emulator_images"), "only pypylon's emulator plays images.")
    device = c.data.get("device", "0")
    if isinstance(device, bool) or not isinstance(device, (str, int)):
        raise LineConfigInvalid(c._name("device"), "a device index (0, 1...), a URL or a file path.")
    return CameraSpec(name=name, kind=kind, settings=settings, serial=c.get("serial", str, None),
                      device=str(device), emulator_images=images)


def _recipe(r: _Reader, cameras: dict[str, CameraSpec]) -> Recipe:
    def known(camera: str) -> str:
        if camera not in cameras:
            raise LineConfigInvalid(r.where, f"camera {camera!r} is not among the cameras "
                                             f"({', '.join(cameras)}).")
        return camera

    if "camera" in r.data:
        if "steps" in r.data:
            raise LineConfigInvalid(r.where, "give either 'camera' (a turning fixture) or 'steps'.")
        return Recipe(camera=known(r.get("camera", str)))
    steps = []
    for i, step in enumerate(r.get("steps", list, required=True), start=1):
        if not isinstance(step, dict) or not step or not all(
                isinstance(v, str) and v.strip() for v in step.values()):
            raise LineConfigInvalid(f"{r.where}.steps[{i}]", 'expected {"camera": "side", ...}.')
        steps.append(tuple((known(cam), side) for cam, side in step.items()))
    if not steps:
        raise LineConfigInvalid(f"{r.where}.steps", "give at least one step.")
    return Recipe(steps=tuple(steps))


def default_config_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / CONFIG_FILE
