"""The detector catalogue: every detector kind the station knows, declared once, without torch.

Per kind it says how to build its network and how to train it (``"module:function"`` strings,
imported only when a model is built or trained), whether it needs defective images and how many
images of each label at least, its default input size, the backbones it accepts, its options (as
data the command line and the GUI render) and its label for people. The registry
(``core.detectors.build_network``), ``core.training.train_model``, the ``train`` command, the Models
panel's build dialog, ``app.model_jobs`` and the GUI's engine preloading all read it.

Adding a detector kind is one package and one entry::

    # core/detectors/mykind/network.py:  def build(spec) -> nn.Module          (see core.detectors)
    # core/detectors/mykind/training.py: def train(samples, config, progress, name) -> Model
    catalogue.add(DetectorKind("mykind", "My detector (good images only)",
                               network="core.detectors.mykind.network:build",
                               trainer="core.detectors.mykind.training:train",
                               input_size=224, min_good=4))

How a kind runs for inspection (``core.model.runtime``) is its ``runtime`` (see ``RUNTIMES``); an
"onnx" kind's export is tuned with ``export=Export(...)`` (see ``Export`` and ``export_of``).

Built-in kinds are added at the end of this module. Thread rule: entries are added at import time
(or by a test before it builds a parser or a dialog); reading is thread-safe.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import DatasetInvalid, StationError
from core.regions.settings import HIGHPASS_READING, TALL_READING

BACKBONES = ("efficientnet_lite0", "vgg16")
# How an inference runtime (issue 12) runs a kind, declared per kind (``DetectorKind.runtime``):
# "onnx"  - the network exports as one graph, normalised batch -> (raw scores, raw maps);
# "numpy" - no network to export: ``DetectorKind.numpy_outputs`` ("module:function",
#           function(spec, pixels uint8 [B, S, S, 3] RGB) -> (raw scores [B], raw maps [B, h, w]))
#           computes the raw outputs with numpy/OpenCV alone, from model.json, without torch;
# "parts" - a composite (a cascade) whose named models each run in their own runtime;
# "torch" - runs in torch only (a network that does not trace).
# An "onnx" kind may say how it exports with ``export=Export(...)`` (default ``Export()``).
RUNTIMES = ("onnx", "numpy", "parts", "torch")
DEFAULT_BACKBONE = "efficientnet_lite0"
DEFAULT_KIND = "cam"


class UnknownDetector(StationError, KeyError):
    """No detector kind of that name is in the catalogue (a ``KeyError`` too, for lookups)."""

    def __str__(self) -> str:
        return str(self.args[0])


class OptionInvalid(StationError, ValueError):
    """A detector option has a wrong name, type or range."""


class NotEnoughImages(DatasetInvalid):
    """The chosen images do not reach the detector kind's minimum counts."""


@dataclass(frozen=True)
class Option:
    """One setting of a detector kind; ``type`` is int, float, str or bool (``many``: a list of them)."""

    name: str
    type: type
    default: Any
    help: str
    many: bool = False
    minimum: float | None = None
    maximum: float | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """``value`` (a string from the command line, or a number from the GUI) as this option's type."""
        if self.many:
            items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
            return tuple(self._one(v) for v in items)
        return self._one(value)

    def _one(self, value: Any) -> Any:
        try:
            if self.type is bool and isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                out: Any = value.lower() in ("1", "true", "yes", "on")
            else:
                out = self.type(value)
        except (TypeError, ValueError):
            raise OptionInvalid(f"The option {self.name} takes {self.type.__name__} values, "
                                f"not {value!r}.") from None
        if self.minimum is not None and out < self.minimum:
            raise OptionInvalid(f"The option {self.name} must be at least {self.minimum}, not {out}.")
        if self.maximum is not None and out > self.maximum:
            raise OptionInvalid(f"The option {self.name} must be at most {self.maximum}, not {out}.")
        return out


@dataclass(frozen=True)
class Export:
    """How a kind's network is exported to ONNX for inspection (``core.model.runtime``).

    ``module``: ``"module:function"``, ``function(network) -> nn.Module`` returning the module to
    trace (same ``forward`` contract, written so that ``torch.onnx.export(dynamo=False)`` traces
    it for any batch size: no Python loop over the batch or the number of patches); None = the
    network itself. ``tolerance``: the largest parity error accepted against torch on the fixed
    inputs, for raw scores and raw maps alike, as a share of the model's calibrated raw span
    (``raw_high - raw_low`` of its score and heatmap scales); beyond it the model runs in torch.
    """

    module: str | None = None
    tolerance: float = 1e-3


@dataclass(frozen=True)
class DetectorKind:
    """What the station knows about one detector kind (see the module's docstring)."""

    kind: str
    label: str                        # for people: the build dialog's choice
    network: str                      # "module:function", function(spec) -> nn.Module
    trainer: str                      # "module:function", function(samples, config, progress, name) -> Model
    input_size: int                   # the default square input size (px)
    min_good: int                     # images labelled good needed to train, at least
    min_defective: int = 0            # images labelled defective needed, at least (0: good-only)
    backbones: tuple[str, ...] = BACKBONES
    options: tuple[Option, ...] = field(default=())
    runtime: str = "onnx"             # see RUNTIMES
    numpy_outputs: str | None = None  # "module:function" for runtime "numpy"
    # "module:function", function(folder, spec, network) -> Model: how ``load_model`` makes the
    # model of a kind that is more than its own network (a cascade loads the models it names);
    # None: ``Model(spec, network)``.
    loader: str | None = None
    # how an "onnx" kind exports (None: ``Export()``'s defaults); see ``export_of``
    export: Export | None = None

    @property
    def needs_defects(self) -> bool:
        return self.min_defective > 0

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        known = ", ".join(o.name for o in self.options) or "none"
        raise OptionInvalid(f"The {self.kind} detector has no option {name!r} (its options: {known}).")

    def defaults(self) -> dict[str, Any]:
        return {opt.name: opt.default for opt in self.options}

    def converted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` checked against this kind's options and converted to their types."""
        return {name: self.option(name).convert(value) for name, value in values.items()}

    def check_counts(self, good: int, defective: int) -> None:
        """Raise ``NotEnoughImages`` unless there are enough images of each label."""
        if good >= self.min_good and defective >= self.min_defective:
            return
        need = f"{self.min_good} good" + (f" and {self.min_defective} defective"
                                          if self.min_defective else "")
        hint = ""
        if self.needs_defects:
            good_only = [k.label for k in entries() if not k.needs_defects]
            if good_only:
                hint = f" A good-only detector needs no defective images: {', '.join(good_only)}."
        raise NotEnoughImages(f"Not enough labelled images to train the {self.label}: {good} good "
                              f"and {defective} defective found; it needs at least {need} images."
                              + hint)

    def check_backbone(self, backbone: str) -> None:
        if backbone not in self.backbones:
            raise OptionInvalid(f"The {self.kind} detector works with the backbone(s) "
                                f"{', '.join(self.backbones)}, not {backbone!r}.")

    def available(self) -> bool:
        """Whether both modules can be found (nothing is imported)."""
        return all(_module_exists(ref.partition(":")[0]) for ref in (self.network, self.trainer))


_KINDS: dict[str, DetectorKind] = {}


def export_of(entry: DetectorKind) -> Export | None:
    """How ``entry``'s network exports to ONNX; None for a kind that does not export (its
    ``runtime`` is not "onnx")."""
    if entry.runtime != "onnx":
        return None
    return entry.export if entry.export is not None else Export()


def add(entry: DetectorKind, *, replace: bool = False) -> None:
    """Put a kind in the catalogue; an existing kind of that name is an error unless ``replace``."""
    if entry.kind in _KINDS and not replace:
        raise ValueError(f"detector kind {entry.kind!r} is already in the catalogue")
    refs = [entry.network, entry.trainer, entry.numpy_outputs, entry.loader]
    if entry.export is not None:
        refs.append(entry.export.module)
    for ref in refs:
        if ref is not None and ":" not in ref:
            raise ValueError(f"{ref!r} is not a 'module:function' reference")
    if entry.runtime not in RUNTIMES:
        raise ValueError(f"runtime {entry.runtime!r} of {entry.kind!r} is not one of {', '.join(RUNTIMES)}")
    if (entry.runtime == "numpy") != (entry.numpy_outputs is not None):
        raise ValueError(f"{entry.kind!r}: a numpy runtime and numpy_outputs go together")
    _KINDS[entry.kind] = entry


def remove(kind: str) -> None:
    _KINDS.pop(kind, None)


def get(kind: str) -> DetectorKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownDetector(f"unknown detector kind {kind!r} (known: {', '.join(_KINDS)})") from None


def kinds() -> tuple[str, ...]:
    """Every kind's name, in the order they were added (the default first)."""
    return tuple(_KINDS)


def entries() -> tuple[DetectorKind, ...]:
    return tuple(_KINDS.values())


def available() -> tuple[DetectorKind, ...]:
    """The kinds whose modules are installed (checked without importing them)."""
    return tuple(k for k in _KINDS.values() if k.available())


def modules() -> tuple[str, ...]:
    """Every kind's network and trainer modules (the GUI imports them up front)."""
    return tuple(ref.partition(":")[0] for k in _KINDS.values() for ref in (k.network, k.trainer))


def resolve(ref: str) -> Callable[..., Any]:
    """The function a ``"module:function"`` reference names; imports its module."""
    module, _, name = ref.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:       # a parent package is missing
        return False


# ---- the built-in kinds -------------------------------------------------------------------------

add(DetectorKind(
    kind="cam", label="CAM classifier (good and defective images)",
    network="core.detectors.cam.network:build_cam",
    trainer="core.detectors.cam.training:train_cam",
    input_size=192, min_good=2, min_defective=2,
    export=Export(),
    options=(
        Option("epochs", int, 30, "training epochs, at most (early stopping may end sooner)",
               minimum=1, maximum=500),
        Option("lr", float, 1e-2, "learning rate of the head; fine-tuned blocks get a fraction",
               minimum=0.0),
        Option("views", int, 4, "augmented views per training image", minimum=1),
        Option("patience", int, 8, "epochs without a better validation loss before stopping",
               minimum=1),
        Option("head_warmup_epochs", int, 8,
               "epochs that train the head alone before the last blocks join", minimum=0),
        Option("region", str, "auto",
               "auto: train on the can the locator finds in each photo, the outside blanked, as "
               "inspection judges it; whole: the whole photo (the recipe before regions)"),
        Option("backdrops", bool, True,
               "with region auto: paste cans onto other backdrops in augmented views"),
        Option("output_stride", int, 32,
               "32, or 16 for a heatmap twice as fine (about twice the network's time)",
               minimum=16, maximum=32),
        Option("antialias", bool, False,
               "blur before every stride-2 step of the network, so a can shifted by a pixel "
               "scores nearly the same (about a twentieth more time)"),
        # -0.02, the shipped default's recipe (new-inset): the can's last pixels, where a backdrop
        # shows through its soft edge, are not judged (docs/REGIONS.md, run 5)
        Option("margin", float, -0.02,
               "with region auto: the judged region is the can's outline grown by this share of "
               "the can's size (0: the outline itself; below 0: taken inside it)",
               minimum=-0.1, maximum=0.5),
        Option("tall_reading", bool, TALL_READING,
               "with region auto: the can locator also tries its third reading, which keeps the "
               "long sides of a can that fills most of the photo's height (recorded in the model)"),
        Option("highpass_reading", bool, HIGHPASS_READING,
               "with region auto: the can locator also tries a reading that ignores smooth blobs of a "
               "busy backdrop, kept when the can's edges along its outline are much stronger "
               "(recorded in the model)"),
        Option("synthetic", float, 0.0,
               "with region auto: share of the good photos' augmented views that get a synthetic "
               "rust spot, dent or crease on the can and count as defective (0: none)",
               minimum=0.0, maximum=1.0),
        Option("region_cuts", float, 0.0,
               "with region auto: share of augmented views whose judged region loses a corner or "
               "a strip along one side, as when the locator misses part of the can (0: none)",
               minimum=0.0, maximum=1.0),
        Option("region_faults", float, 0.0,
               "with region auto: share of augmented views whose judged region bulges into the "
               "backdrop or, on good photos only, loses a corner or a strip: the locator's faults "
               "in front of a busy backdrop (0: none)",
               minimum=0.0, maximum=1.0),
        Option("relocated", float, 0.0,
               "with region auto: share of augmented views cut from the photo repainted outside its "
               "can with a random backdrop, the can found again by the locator (0: none)",
               minimum=0.0, maximum=1.0),
        Option("members", int, 1,
               "members fine-tuned with their own seeds on the same views and averaged into one "
               "network (a model soup: the same time per can; on the cans not steadier, docs/REGIONS.md run 8)",
               minimum=1, maximum=16),
    )))

add(DetectorKind(
    kind="patchcore", label="Good-only (PatchCore: needs only good images)",
    network="core.detectors.patchcore.network:build_patchcore",
    trainer="core.detectors.patchcore.training:train_patchcore",
    # 5 images for the memory bank and at least 1 to calibrate the threshold on
    input_size=224, min_good=6, backbones=("efficientnet_lite0",),
    # The bank is searched in fixed chunks of it (PatchCoreNet.nearest_distance): traces as is.
    export=Export(),
    options=(
        Option("coreset_ratio", float, 0.1, "share of all good patches kept in the memory bank",
               minimum=0.0, maximum=1.0),
        Option("max_bank", int, 8192, "memory bank size, at most (bounds the time per can)",
               minimum=1),
        Option("projection_dim", int, 32, "random projection used only to pick the coreset",
               minimum=1),
        Option("layers", int, (2, 3), "backbone stages whose features make a patch", many=True,
               minimum=0),
        Option("sigma", float, 4.0, "Gaussian smoothing of the anomaly map (input pixels)",
               minimum=0.0),
    )))

add(DetectorKind(
    kind="segdec", label="Mixed supervision (segdec: defective images, masks for some of them)",
    network="core.detectors.segdec.network:build_segdec",
    trainer="core.detectors.segdec.training:train_segdec",
    # 224 px: a 28x28 defect map (stride 8) on a backbone as cheap as PatchCore's
    input_size=224, min_good=2, min_defective=2, backbones=("efficientnet_lite0",),
    options=(
        Option("epochs", int, 30, "training epochs (lambda moves from the masks to the labels)",
               minimum=1, maximum=500),
        Option("views", int, 4, "augmented views per training image", minimum=1),
        Option("head_lr", float, 1e-3, "learning rate of the segmentation and decision layers",
               minimum=0.0),
        Option("delta", float, 1.0, "weight of the classification loss against the segmentation loss",
               minimum=0.0),
        Option("smooth", float, 1.5, "Gaussian blur of the defect map, in map cells (8 px each)",
               minimum=0.0, maximum=8.0),
        Option("deep", bool, True, "the decision also sees the backbone's deepest stage"),
        Option("region", str, "auto",
               "auto: train on the can the locator finds in each photo, the outside blanked, as "
               "inspection judges it; whole: the whole photo (the recipe before regions)"),
        Option("backdrops", bool, True,
               "with region auto: paste cans onto other backdrops in augmented views of unmarked images"),
    )))

add(DetectorKind(
    kind="classical", label="Classical check (no training: a few good images set its floor)",
    network="core.detectors.classical.network:build_classical",
    trainer="core.detectors.classical.training:train_classical",
    # 2 good images to measure the surface on, 1 to calibrate; the backbone is not used
    input_size=256, min_good=3, backbones=(DEFAULT_BACKBONE,),
    runtime="numpy", numpy_outputs="core.detectors.classical.check:raw_outputs",
    options=(
        Option("pixel_quantile", float, 0.999,
               "share of good-surface deviations below the candidates' floor", minimum=0.5, maximum=1.0),
        Option("min_area", float, 0.0005, "smallest candidate, as a share of the view", minimum=0.0,
               maximum=0.5),
        Option("background", float, 0.06, "the smooth background's blur, as a share of the view",
               minimum=0.005, maximum=1.0),
        Option("region", str, "auto",
               "auto: check only the can the locator finds in each photo; whole: the whole photo"),
    )))

add(DetectorKind(
    kind="cascade", label="Fast cascade (a gate model, then a heavy model on the sides it does not pass)",
    network="core.detectors.cascade.model:build_cascade_network",
    trainer="core.detectors.cascade.training:build_cascade",
    loader="core.detectors.cascade.model:load_cascade",
    # the images only place the gate's pass level: at least one defective among them
    input_size=224, min_good=1, min_defective=1, backbones=(DEFAULT_BACKBONE,), runtime="parts",
    options=(
        Option("gate", str, "", "folder of the fast gate model (a CAM at low resolution, or the "
                                "classical check)"),
        Option("heavy", str, "", "folder of the heavy model (PatchCore or segdec)"),
        Option("margin", float, 0.02, "how far below the lowest defective gate score the gate passes",
               minimum=0.0, maximum=1.0),
    )))
