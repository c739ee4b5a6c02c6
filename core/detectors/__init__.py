"""The network contract shared by every detector kind, and the registry that builds them.

A detector network is an ``nn.Module`` whose ``forward(x)`` takes a normalised batch
``[B, 3, S, S]`` (S = ``spec.input_size``) and returns ``(raw_scores [B], raw_maps [B, h, w])``
in the detector's own raw units, maps at any resolution. ``core.model.model.Model`` does everything
around it (preprocessing, upsampling, scaling, boxes, verdicts), so a new kind needs a builder
``build(spec) -> nn.Module`` and a trainer, both named in its entry of the detector catalogue
(``core.detectors.catalogue``). The builder creates the module with the architecture the spec
describes and *no* pretrained download: the weights come from the model folder and are checked
against the module's own state dict (names and shapes) before loading.

Torch-free until a network is built. Thread-safe for reading.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from core.model.spec import ModelSpec

NetworkBuilder = Callable[["ModelSpec"], "nn.Module"]


def known_kinds() -> tuple[str, ...]:
    """The detector kinds in the catalogue, sorted."""
    from core.detectors import catalogue

    return tuple(sorted(catalogue.kinds()))


def build_network(spec: ModelSpec) -> nn.Module:
    """The untrained module for ``spec.kind``; ``KeyError`` (``UnknownDetector``) for an unknown kind."""
    from core.detectors import catalogue

    builder: NetworkBuilder = catalogue.resolve(catalogue.get(spec.kind).network)
    return builder(spec)
