"""Training entry point shared by the CLI, the GUI and the tests.

``train_model(samples, config, progress, name)`` looks ``config.detector`` up in the detector
catalogue (``core.detectors.catalogue``), checks the images and options against the entry (labels
0/1, minimum counts per label, accepted backbone, known options), fills in the kind's default input
size and calls the kind's trainer, which returns a calibrated ``Model`` the caller saves. Samples
can come from a folder (``scan_dataset``) or from anywhere else (the gallery's corrections): a
``LabeledImage`` holds a path or encoded bytes and a label.

Thread rule: ``train_model`` runs on one worker thread; ``progress.cancel()`` may be called from
any thread and stops it at the next batch with ``Cancelled``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from core.detectors import catalogue
from core.errors import DatasetInvalid
from core.progress import Progress
from core.training.config import LabeledImage, TrainConfig
from core.training.dataset import count_labels, scan_dataset, stratified_split

if TYPE_CHECKING:
    from core.model.model import Model

__all__ = ["LabeledImage", "TrainConfig", "count_labels", "prepare", "scan_dataset",
           "stratified_split", "train_model"]


def prepare(samples: list[LabeledImage], config: TrainConfig) -> TrainConfig:
    """Check ``samples`` and ``config`` against the catalogue; the config with defaults filled in.

    Raises ``UnknownDetector``, ``OptionInvalid``, ``DatasetInvalid`` (``NotEnoughImages``)."""
    entry = catalogue.get(config.detector)
    bad = [s for s in samples if s.label not in (0, 1)]
    if bad:
        raise DatasetInvalid(f"labels must be 0 (good) or 1 (anomaly); {bad[0].display_name} "
                             f"has {bad[0].label!r}")
    if config.can_false_reject is not None and not 0.0 < config.can_false_reject < 1.0:
        raise ValueError(f"can_false_reject is a share of cans between 0 and 1, got "
                         f"{config.can_false_reject}")
    entry.check_backbone(config.backbone)
    entry.check_counts(*count_labels(samples))
    checked = replace(config, options={}).with_options(config.options)
    return replace(checked, input_size=config.input_size or entry.input_size)


def train_model(samples: list[LabeledImage], config: TrainConfig, progress: Progress,
                name: str) -> Model:
    """Train and calibrate a model of kind ``config.detector``; the caller saves it."""
    config = prepare(samples, config)
    trainer = catalogue.resolve(catalogue.get(config.detector).trainer)
    model: Model = trainer(list(samples), config, progress, name)
    # Which images the model saw, so that an evaluation can tell figures on new images apart.
    from core.images.fingerprint import RECORD_KEY, trained_on_record

    record = trained_on_record(s.source for s in samples)
    model.spec = model.spec.replace(trained_on={**model.spec.trained_on, RECORD_KEY: record})
    return model
