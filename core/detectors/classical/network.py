"""The classical check behind the station's network contract, for the torch inspection path.

``ClassicalNet`` has no weights (its parameters live in ``model.json``'s ``extra.classical``, so a
numpy-only runtime reads them without torch): ``forward`` turns the normalised batch back into the
uint8 views ``Model.preprocess`` made from and runs ``core.detectors.classical.check`` on them.
Thread rule: one thread at a time uses a module (``Model`` owns it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.detectors.classical.check import CheckParams, check_views

if TYPE_CHECKING:
    from core.model.spec import ModelSpec


class ClassicalNet(nn.Module):
    def __init__(self, params: CheckParams, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.params = params
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tensor(self.mean, dtype=x.dtype).reshape(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype).reshape(1, 3, 1, 1)
        pixels = ((x * std + mean) * 255.0).round_().clamp_(0, 255).to(torch.uint8)
        scores, maps = check_views(pixels.permute(0, 2, 3, 1).contiguous().numpy(), self.params)
        return torch.from_numpy(scores), torch.from_numpy(np.ascontiguousarray(maps))


def build_classical(spec: ModelSpec) -> ClassicalNet:
    return ClassicalNet(CheckParams.from_dict(spec.extra.get("classical", {})), spec.mean, spec.std)
