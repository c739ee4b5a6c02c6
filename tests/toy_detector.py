"""A toy detector kind, written as a package into a temporary folder, to show that adding a kind
is one package plus one catalogue entry (``toy_detector(tmp_path)``: a context manager)."""
from __future__ import annotations

import contextlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

from core.detectors import catalogue
from core.detectors.catalogue import DetectorKind, Option

PACKAGE = "toy_darkness"

NETWORK = '''
"""Darker than the good cans means anomalous: the map is -gain * brightness."""
import torch
from torch import nn


class DarknessNet(nn.Module):
    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("gain", torch.tensor([float(gain)]))

    def forward(self, x):
        maps = -self.gain * x.mean(dim=1)
        return maps.amax(dim=(1, 2)), maps


def build(spec):
    return DarknessNet(spec.extra["toy"]["gain"])
'''

TRAINING = '''
"""Fits nothing but the calibration: raw scores of the samples -> score scale and thresholds."""
from core.images import load_image
from core.model.model import Model
from core.model.spec import ModelSpec
from core.scoring.calibration import ScoreScale, calibrate

from toy_darkness.network import DarknessNet


def train(samples, config, progress, name):
    gain = config.option("gain")
    net = DarknessNet(gain)
    unit = ScoreScale(0.0, 0.5, 1.0)
    spec = ModelSpec(name=name, kind="toy", backbone=config.backbone, input_size=config.input_size,
                     mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), score_scale=unit,
                     heatmap_scale=unit, extra={"toy": {"gain": gain}})
    raw, _ = Model(spec, net).raw_outputs([load_image(s.source) for s in samples])
    progress.check()
    scale, thresholds, info = calibrate(raw.tolist(), [s.label for s in samples])
    progress.report(1, 1, "toy calibrated")
    return Model(spec.replace(score_scale=scale, heatmap_scale=scale, thresholds=thresholds,
                              trained_on={"detector": "toy", "images": len(samples)}), net)
'''

ENTRY = DetectorKind(
    kind="toy", label="Toy darkness detector (tests only)",
    network=f"{PACKAGE}.network:build", trainer=f"{PACKAGE}.training:train",
    input_size=32, min_good=3, min_defective=1,
    options=(Option("gain", float, 1.0, "how strongly darkness counts", minimum=0.0),))


@contextlib.contextmanager
def toy_detector(root: Path) -> Iterator[DetectorKind]:
    """The toy package on ``sys.path`` and its entry in the catalogue, for the ``with`` block."""
    package = root / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A toy detector kind."""\n')
    (package / "network.py").write_text(textwrap.dedent(NETWORK))
    (package / "training.py").write_text(textwrap.dedent(TRAINING))
    sys.path.insert(0, str(root))
    catalogue.add(ENTRY)
    try:
        yield ENTRY
    finally:
        catalogue.remove(ENTRY.kind)
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
