"""The long jobs of the Models panel as plain functions, run in ``gui.workers`` tasks.

* ``build_and_register``: collect labelled images (a folder with good/ and defect/, or the gallery,
  where a supervisor's correction overrides the machine's label), train through
  ``core.training.train_model``, save the model folder under the models folder, register it.
  Cancelling raises ``Cancelled`` before anything is saved or registered.
* ``evaluate_folder``: load a model and run ``core.evaluation.evaluate.evaluate_model`` on a folder.

Threading rule: each runs on its own worker thread and owns the model it loads (models are not
thread-safe; this one is never shared with the inference worker). The station services are
thread-safe. No Qt here.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.detectors import catalogue
from core.detectors.catalogue import NotEnoughImages
from core.progress import Progress
from core.scoring.calibration import Thresholds
from db.permissions import require

if TYPE_CHECKING:
    from core.evaluation.backdrop import BackdropReport
    from core.evaluation.evaluate import EvalReport
    from core.training import LabeledImage
    from db import Actor, Station
    from db.dto import ModelInfo

__all__ = ["BuildRequest", "NotEnoughImages", "build_and_register", "collect_samples",
           "evaluate_folder", "gallery_samples"]


@dataclass(frozen=True)
class BuildRequest:
    name: str
    # "folder" | "gallery" | "both": the folder's images and the gallery's labelled sides together
    # (a plant commissioning a product adds its own good cans from the gallery to a data set)
    source: str
    folder: str = ""              # for "folder" and "both": holds good/ and defect/
    product_id: int | None = None  # for "gallery" and "both": only this product's inspections (None = all)
    detector: str = catalogue.DEFAULT_KIND   # a kind in core.detectors.catalogue
    backbone: str = catalogue.DEFAULT_BACKBONE
    input_size: int | None = None    # None: the detector's own default
    options: Mapping[str, Any] = field(default_factory=dict)  # the detector's options (catalogue)
    can_false_reject: float | None = None  # e.g. 0.01: reject set for <= 1 % good cans rejected


SOURCES = ("folder", "gallery", "both")


def describe_source(request: BuildRequest) -> str:
    """Where the images came from, as the model records it."""
    gallery = f"gallery (product {request.product_id})" if request.product_id else "gallery (all products)"
    return {"folder": request.folder, "gallery": gallery,
            "both": f"{request.folder} + {gallery}"}[request.source]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-").lower() or "model"


def gallery_samples(station: Station, actor: Actor, product_id: int | None) -> list[LabeledImage]:
    """Labelled sides from the gallery as ``LabeledImage`` (corrections override); a defective
    side carries the mask a person drew with its correction, if any (segdec learns from it)."""
    from core.training import LabeledImage
    from db.records import GalleryFilter

    sides = station.inspections.labelled_sides(actor, GalleryFilter(product_id=product_id))
    # fetch: a photo (or a mask) another station recorded comes from the site's store (then cached here)
    return [LabeledImage(str(station.files.fetch(s.image_path)), 0 if s.label == "Good" else 1,
                         str(station.files.fetch(s.mask_path))
                         if s.mask_path is not None and s.label != "Good" else None)
            for s in sides]


def collect_samples(request: BuildRequest, station: Station, actor: Actor) -> list[LabeledImage]:
    """The labelled images; ``NotEnoughImages`` below the detector kind's minimum counts."""
    from core.training import count_labels, scan_dataset

    if request.source not in SOURCES:
        raise ValueError(f"unknown source of images {request.source!r} (one of {', '.join(SOURCES)})")
    samples = []
    if request.source in ("folder", "both"):
        samples += scan_dataset(request.folder)
    if request.source in ("gallery", "both"):
        samples += gallery_samples(station, actor, request.product_id)
    catalogue.get(request.detector).check_counts(*count_labels(samples))
    return samples


def build_and_register(progress: Progress, station: Station, actor: Actor, models_dir: str | Path,
                       request: BuildRequest) -> ModelInfo:
    """Train, save and register a model; returns the ``ModelInfo``."""
    from core.training import TrainConfig, train_model

    # The service checks again when it registers; this spares a refused user the training first.
    require(actor.role, "model.manage")
    progress.report(0, 1, "Collecting labelled images")
    samples = collect_samples(request, station, actor)
    source = describe_source(request)
    config = TrainConfig(detector=request.detector, backbone=request.backbone,
                         input_size=request.input_size, source=source,
                         can_false_reject=request.can_false_reject).with_options(request.options)
    model = train_model(samples, config, progress, request.name)
    progress.check()  # a cancel during calibration still means: nothing saved
    stamp = datetime.now(timezone.utc)
    version = stamp.strftime("%Y%m%d-%H%M%S")
    model.spec = model.spec.replace(version=version)
    folder = Path(models_dir) / f"{_slug(request.name)}-{version}"
    progress.report(1, 1, "Saving the model")
    model.save(folder)
    spec = model.spec
    try:
        info = station.models.register(actor, spec.name, str(folder), spec.kind, spec.backbone,
                                       spec.version, spec.metrics, spec.thresholds.to_dict(),
                                       spec.trained_on)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no model folder without its database row
        raise
    if getattr(station.files, "shared", False):
        # Into the site's store for every station; if that fails the model stays registered
        # here, and activating it publishes it again.
        progress.report(1, 1, "Publishing the model to the site")
        info = station.site_models.publish(actor, info.id)
    return info


def evaluate_folder(progress: Progress, model_folder: str, data_dir: str,
                    thresholds: Thresholds | None) -> EvalReport:
    """``EvalReport`` of the model (with the thresholds the station uses) on ``data_dir``."""
    return evaluate_with_backdrops(progress, model_folder, data_dir, thresholds, False)[0]


def evaluate_with_backdrops(progress: Progress, model_folder: str, data_dir: str,
                            thresholds: Thresholds | None, backdrops: bool
                            ) -> tuple[EvalReport, BackdropReport | None]:
    """``evaluate_folder``'s report and, with ``backdrops``, the backdrop check of the same model
    on the folder's good images (``core.evaluation.backdrop``: each repainted outside its can with
    ten backdrops, the changed verdicts counted); None when the folder has no good image."""
    from core.evaluation.evaluate import evaluate_model
    from core.model.io import load_model

    progress.report(0, 1, "Loading the model")
    model = load_model(model_folder)
    if thresholds is not None:
        model = model.with_thresholds(thresholds)
    report = evaluate_model(model, data_dir, progress)
    if not backdrops or not any(int(v) == 0 for v in report.labels):
        return report, None
    from core.evaluation.backdrop import backdrop_check
    from core.training import scan_dataset

    progress.report(0, 1, "Backdrop check: repainting the good images' backdrops")
    return report, backdrop_check(model, scan_dataset(data_dir), progress)
