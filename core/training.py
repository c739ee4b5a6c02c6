"""Training entry point shared by the CLI, the GUI and the tests.

``train_model(samples, config, progress, name)`` dispatches on ``config.detector`` to a trainer
registered with ``register_trainer(kind, fn)``; every trainer returns a calibrated ``Model`` that
the caller saves. Samples can come from a folder (``scan_dataset``) or from anywhere else (the
GUI's gallery corrections): a ``LabeledImage`` holds a path or encoded bytes and a label.

Thread rule: ``train_model`` runs on one worker thread; ``progress.cancel()`` may be called from
any thread and stops it at the next batch with ``Cancelled``.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from core.errors import DatasetInvalid
from core.progress import Progress

if TYPE_CHECKING:
    from core.model.model import Model

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


@dataclass
class TrainConfig:
    detector: str = "cam"
    backbone: str = "efficientnet_lite0"
    epochs: int = 30
    batch_size: int = 16
    input_size: int | None = None    # None: the detector's own default (cam 192, patchcore 224)
    lr: float = 1e-2                 # head; the fine-tuned backbone blocks get lr * backbone_lr_factor
    backbone_lr_factor: float = 0.03
    head_warmup_epochs: int = 8      # head only first, so fine-tuning starts from a sane classifier
    weight_decay: float = 1e-4
    seed: int = 0
    val_fraction: float = 0.25
    patience: int = 8                # early stopping: epochs without a better validation loss
    views: int = 4                   # augmented views per training image, cached once
    pretrained: bool = True
    backbone_weights: str | None = None   # local ImageNet weights file (vgg16 offline)
    source: str = ""                 # where the samples came from, recorded in the model
    options: dict = field(default_factory=dict)  # detector-specific settings (e.g. PatchCore)
    can_false_reject: float | None = None  # e.g. 0.01: reject set for <= 1 % good cans rejected

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LabeledImage:
    source: str | Path | bytes
    label: int                       # 0 = good, 1 = anomaly

    @property
    def display_name(self) -> str:
        return "<bytes>" if isinstance(self.source, (bytes, bytearray)) else str(self.source)


Trainer = Callable[[list[LabeledImage], TrainConfig, Progress, str], "Model"]
_TRAINERS: dict[str, Trainer] = {}
# Modules that call register_trainer when imported; missing ones are skipped.
_TRAINER_MODULES = ("core.detectors.cam.training", "core.detectors.patchcore.training")


def register_trainer(kind: str, trainer: Trainer) -> None:
    _TRAINERS[kind] = trainer


def _trainers() -> dict[str, Trainer]:
    for module in _TRAINER_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return _TRAINERS


def train_model(samples: list[LabeledImage], config: TrainConfig, progress: Progress,
                name: str) -> "Model":
    """Train and calibrate a model of kind ``config.detector``; the caller saves it."""
    trainers = _trainers()
    if config.detector not in trainers:
        raise ValueError(f"no trainer for detector {config.detector!r} "
                         f"(known: {', '.join(sorted(trainers))})")
    bad = [s for s in samples if s.label not in (0, 1)]
    if bad:
        raise DatasetInvalid(f"labels must be 0 (good) or 1 (anomaly); {bad[0].display_name} "
                             f"has {bad[0].label!r}")
    if config.can_false_reject is not None and not 0.0 < config.can_false_reject < 1.0:
        raise ValueError(f"can_false_reject is a share of cans between 0 and 1, got "
                         f"{config.can_false_reject}")
    model = trainers[config.detector](list(samples), config, progress, name)
    # Which images the model saw, so that an evaluation can tell figures on new images apart.
    from core.images.fingerprint import RECORD_KEY, trained_on_record

    record = trained_on_record(s.source for s in samples)
    model.spec = model.spec.replace(trained_on={**model.spec.trained_on, RECORD_KEY: record})
    return model


def scan_dataset(data_dir: str | Path) -> list[LabeledImage]:
    """Images in ``data_dir/good`` (label 0) and ``data_dir/defect`` (label 1), sorted by name."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetInvalid(f"The data folder {root} does not exist.")
    samples: list[LabeledImage] = []
    for sub, label in (("good", 0), ("defect", 1)):
        folder = root / sub
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir()
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            samples += [LabeledImage(p, label) for p in files]
    if not samples:
        raise DatasetInvalid(f"{root} holds no images: expected good/ and defect/ sub-folders "
                             f"with {', '.join(IMAGE_SUFFIXES)} files.")
    return samples


def stratified_split(labels, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation), shuffled per class with ``seed``.

    Each class with at least two images puts at least one in validation and one in training.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val = int(round(val_fraction * idx.size))
        if idx.size >= 2:
            n_val = min(max(n_val, 1), idx.size - 1)
        else:
            n_val = 0
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def auroc(scores, labels) -> float:
    """Area under the ROC curve by the rank statistic (ties count half); NaN with one class."""
    scores, labels = np.asarray(scores, float), np.asarray(labels).astype(int)
    pos, neg = scores[labels == 1], scores[labels == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (pos.size * neg.size))
