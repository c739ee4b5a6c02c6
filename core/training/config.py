"""What a training job is given: the labelled images and the settings.

``TrainConfig`` holds the settings every detector kind shares, plus detector options: an option
whose name is a field here (the CAM classifier's ``epochs``, ``lr``...) is set on that field, any
other (PatchCore's ``max_bank``...) lives in ``options``. The catalogue
(``core.detectors.catalogue``) declares each kind's options and their defaults; ``with_options``
checks values against it. Plain data, torch-free; safe to pass between threads.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from core.detectors import catalogue

_CAM = catalogue.get("cam")


@dataclass
class TrainConfig:
    detector: str = catalogue.DEFAULT_KIND
    backbone: str = catalogue.DEFAULT_BACKBONE
    epochs: int = _CAM.option("epochs").default
    batch_size: int = 16
    input_size: int | None = None    # None: the detector's own default (catalogue: cam 192, patchcore 224)
    lr: float = _CAM.option("lr").default  # head; fine-tuned backbone blocks get lr * backbone_lr_factor
    backbone_lr_factor: float = 0.03
    head_warmup_epochs: int = _CAM.option("head_warmup_epochs").default  # head alone first
    weight_decay: float = 1e-4
    seed: int = 0
    val_fraction: float = 0.25
    patience: int = _CAM.option("patience").default  # early stopping: epochs without a better loss
    views: int = _CAM.option("views").default        # augmented views per training image, cached once
    pretrained: bool = True
    backbone_weights: str | None = None   # local ImageNet weights file (vgg16 offline)
    source: str = ""                 # where the samples came from, recorded in the model
    options: dict[str, Any] = field(default_factory=dict)  # detector options that are not fields
    can_false_reject: float | None = None  # e.g. 0.01: reject set for <= 1 % good cans rejected

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_options(self, values: Mapping[str, Any]) -> TrainConfig:
        """A copy with the detector's options set, checked and converted by the catalogue
        (``OptionInvalid`` for a name the detector does not have or a wrong value)."""
        converted = catalogue.get(self.detector).converted(values)
        names = {f.name for f in fields(self)} - {"options"}
        on_fields = {k: v for k, v in converted.items() if k in names}
        rest = {k: v for k, v in converted.items() if k not in names}
        return replace(self, **on_fields, options={**self.options, **rest})

    def option(self, name: str) -> Any:
        """The value of one of the detector's options: the field, the stored option or its default."""
        default = catalogue.get(self.detector).option(name).default
        if name in {f.name for f in fields(self)}:
            return getattr(self, name)
        return self.options.get(name, default)


@dataclass(frozen=True)
class LabeledImage:
    source: str | Path | bytes
    label: int                       # 0 = good, 1 = anomaly
    # Where a person marked the defect (8-bit image, defect > 127, any size: it is resized to the
    # photo): a path or encoded bytes; None = no mask. Only detectors that learn from masks use it.
    mask: str | Path | bytes | None = None

    @property
    def display_name(self) -> str:
        return "<bytes>" if isinstance(self.source, (bytes, bytearray)) else str(self.source)
