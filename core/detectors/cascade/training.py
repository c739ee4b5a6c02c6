"""Building a cascade from two model folders and a calibration set: the gate's pass level.

Nothing is trained. The gate judges every calibration image; ``pass_below`` (on the gate's
normalised scale) is set ``margin`` below the lowest score of any defective calibration image, so
the gate passes none of them, and at most at the gate's decision level 0.5. The good images
scoring under it are the sides the heavy detector will be spared
(``trained_on["gate_passes_good"]``). The heavy detector's scales and thresholds become the
cascade's. The calibration images should be new to both models (their own validation images are
not known here): ``main.py train DATA --detector cascade --gate G --heavy H``.

Runs on the calling thread; reports progress and honours cancel per batch of seven.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.detectors.cascade.model import KIND, CascadeModel, CascadeNet, part_checksum
from core.errors import DatasetInvalid, ModelFileInvalid
from core.images import load_image
from core.model.spec import ModelSpec, read_spec_file
from core.progress import Progress
from core.sides import SIDES_PER_CAN
from core.training.config import LabeledImage, TrainConfig


def build_cascade(samples: list[LabeledImage], config: TrainConfig, progress: Progress,
                  name: str) -> CascadeModel:
    from core.model.io import load_model

    folders, checksums, models = [], [], []
    for key in ("gate", "heavy"):
        given = str(config.option(key) or "")
        if not given:
            raise DatasetInvalid(f"A cascade names its {key} model: give its folder "
                                 f"(--{key} FOLDER, or the {key} option in the build dialog).")
        folder = Path(given).expanduser().resolve()
        part = read_spec_file(folder)          # ModelFileInvalid names the folder and the reason
        if part.spec.kind == KIND:
            raise ModelFileInvalid(folder, f"the {key} of a cascade cannot be a cascade itself")
        if part.weights_sha256 is None:
            raise ModelFileInvalid(folder, "it records no weights checksum (format 1); re-save it first")
        folders.append(folder)
        checksums.append(part_checksum(folder))
        models.append(load_model(folder))
    gate, heavy = models
    margin = float(config.option("margin"))
    scores, labels = [], []
    for start in range(0, len(samples), SIDES_PER_CAN):
        progress.check()
        chunk = samples[start:start + SIDES_PER_CAN]
        results = gate.inspect_sides([load_image(s.source) for s in chunk],
                                     [f"side {start + i}" for i in range(len(chunk))])
        scores += [r.score for r in results]
        labels += [int(s.label) for s in chunk]
        progress.report(start + len(chunk), len(samples), "running the gate on the calibration images")
    y, s = np.asarray(labels), np.asarray(scores)
    lowest_defect = float(s[y == 1].min())
    # Never above the gate's own decision level: a side the gate calls anomalous is not clearly good.
    pass_below = round(min(0.5, max(0.0, lowest_defect - margin)), 4)
    good = s[y == 0]
    passes = float(np.mean(good < pass_below)) if good.size else 0.0
    h = heavy.spec
    spec = ModelSpec(
        name=name, kind=KIND, backbone="none", input_size=h.input_size, mean=h.mean, std=h.std,
        score_scale=h.score_scale, heatmap_scale=h.heatmap_scale, thresholds=h.thresholds,
        extra={KIND: {"gate": str(folders[0]), "heavy": str(folders[1]), "gate_sha256": checksums[0],
                      "heavy_sha256": checksums[1], "pass_below": pass_below,
                      "gate_kind": gate.spec.kind, "heavy_kind": h.kind, "margin": margin,
                      "rule": "pass_below = min(0.5, lowest gate score of a defective calibration image - "
                              "margin)"}},
        trained_on={"detector": KIND, "source": config.source, "gate": gate.spec.name,
                    "heavy": h.name, "calibration_good": int(good.size),
                    "calibration_defect": int(y.sum()), "gate_passes_good": round(passes, 4),
                    "lowest_defect_gate_score": round(lowest_defect, 4)},
        metrics={"gate_passes_good": round(passes, 4), "val_images": int(y.size)})
    progress.report(len(samples), len(samples),
                    f"the gate passes {passes:.0%} of the good calibration images, no defective one")
    return CascadeModel(spec, CascadeNet(), gate, heavy, (folders[0], folders[1]))
