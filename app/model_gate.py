"""Putting a model on the line, Qt-free: evaluate and store the evaluation, the activation gate,
activating for products in one transaction, rolling a product back.

The gate: a model is activated only after an evaluation is stored for it (so the gate survives a
restart). An evaluation on images the model was not trained on (``n_overlap_training == 0``) opens
it; one that used training images, or of a model that does not record its training images, opens it
only with an explicit confirmation, because its figures are optimistic.

Threading rule: ``evaluate_and_record``, ``activate_products`` and ``rollback_product`` are long or
database jobs run by ``gui.workers.start_task`` (first argument a ``Progress``); ``activation_gate``
is pure. The station services are thread-safe.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.model_figures import backdrop_record, evaluation_record
from core.progress import Progress
from core.scoring.calibration import Thresholds


@dataclass(frozen=True)
class Evaluated:
    report: Any                  # core.evaluation.evaluate.EvalReport
    info: Any                    # db EvaluationInfo as stored
    backdrops: Any = None        # core.evaluation.backdrop.BackdropReport, if the check ran


def evaluate_and_record(progress: Progress, station: Any, actor: Any, model: Any,
                        data_dir: str, backdrop_check: bool = False) -> Evaluated:
    """Evaluate ``model`` (a ``ModelInfo``) at its thresholds on ``data_dir`` and store the result;
    with ``backdrop_check``, the backdrop check on the folder's good images is stored with it
    (``app.model_figures.backdrop_record``)."""
    from app.model_jobs import evaluate_with_backdrops

    thresholds = Thresholds.from_dict(model.thresholds) if model.thresholds else None
    report, check = evaluate_with_backdrops(progress, model.folder, data_dir, thresholds,
                                            backdrop_check)
    progress.check()
    n = len(report.labels)
    # The column holds a count; a model that cannot tell counts as "maybe all seen" there, and the
    # stored summary keeps the truth (None).
    overlap = n if report.n_overlap_training is None else report.n_overlap_training
    data = evaluation_record(report)
    if backdrop_check:
        data["backdrop_check"] = backdrop_record(check, report)
    info = station.models.record_evaluation(actor, model.id, data, n, overlap, str(Path(data_dir)))
    return Evaluated(report, info, check)


def overlap_of(evaluation: Any) -> int | None:
    """Images of ``evaluation`` the model was trained or calibrated on; None when it cannot tell."""
    data = evaluation.data if isinstance(evaluation.data, dict) else {}
    if "n_overlap_training" in data:
        return data["n_overlap_training"]
    return evaluation.n_overlap_training


@dataclass(frozen=True)
class Gate:
    evaluation: Any | None       # the evaluation activation rests on (None: closed)
    needs_confirmation: bool     # its figures are optimistic: the admin must say so
    message: str

    @property
    def open(self) -> bool:
        return self.evaluation is not None


def activation_gate(model: Any, evaluations: list) -> Gate:
    """The gate for ``model`` from its stored evaluations (newest first)."""
    title = f"{model.name} {model.version}"
    if not evaluations:
        return Gate(None, False, f"{title} has not been evaluated. Evaluate it on a folder of images "
                                 "it was not trained on (Evaluate on folder…), then activate it.")
    clean = [e for e in evaluations if overlap_of(e) == 0]
    if clean:
        e = clean[0]
        return Gate(e, False, f"Evaluated on {e.n_images} images it was not trained on "
                              f"({e.source}, {e.created_at:%Y-%m-%d %H:%M}).")
    e = evaluations[0]
    seen = overlap_of(e)
    if seen is None:
        why = (f"{title} does not record which images it was trained on, so its evaluation on "
               f"{e.n_images} images ({e.source}) may rest on its own training images")
    else:
        why = (f"{seen} of the {e.n_images} images of its evaluation ({e.source}) were used to train "
               "or calibrate it")
    return Gate(e, True, f"{why}: the figures below are optimistic. Evaluate it on new images, or "
                         "confirm that you accept this.")


def activate_products(progress: Progress, station: Any, actor: Any, model_id: int,
                      product_ids: list[int]) -> list[int]:
    """Make the model active for every product in ONE transaction (all or none). With a photo
    store shared by the site, a model not yet published is published first (uploaded from this
    station), so every station can download it: the activation rolls it out."""
    files = getattr(station, "files", None)
    if getattr(files, "shared", False) and not station.models.get(actor, model_id).published:
        progress.report(0, 2, "Publishing the model to the site")
        station.site_models.publish(actor, model_id)
    progress.report(1, 2, "Activating")
    station.models.activate(actor, model_id, list(product_ids))
    progress.report(2, 2, "Activated")
    return list(product_ids)


def rollback_product(progress: Progress, station: Any, actor: Any, product_id: int) -> Any:
    """Give the product back its previous model; returns the product's new info."""
    progress.report(0, 1, "Rolling back")
    return station.models.rollback(actor, product_id)
