"""The network contract shared by every detector kind, and the registry that builds them.

A detector network is an ``nn.Module`` whose ``forward(x)`` takes a normalised batch
``[B, 3, S, S]`` (S = ``spec.input_size``) and returns ``(raw_scores [B], raw_maps [B, h, w])``
in the detector's own raw units, maps at any resolution. ``core.model.model.Model`` does everything
around it (preprocessing, upsampling, scaling, boxes, verdicts), so a new kind only needs::

    # core/detectors/mykind.py
    from core.detectors import register_network
    def build_mykind(spec) -> nn.Module: ...
    register_network("mykind", build_mykind)

and its module name in ``_BUILTIN_MODULES`` below. The builder creates the module with the
architecture the spec describes and *no* pretrained download: the weights come from the model
folder and are checked against the module's own state dict (names and shapes) before loading.

Thread-safe for reading; registration happens at import time.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from torch import nn

    from core.model.spec import ModelSpec

NetworkBuilder = Callable[["ModelSpec"], "nn.Module"]

_NETWORKS: dict[str, NetworkBuilder] = {}
# Modules that register a kind when imported; a module that does not exist (yet) is skipped.
_BUILTIN_MODULES = ("core.detectors.cam.network", "core.detectors.patchcore.network")
_loaded = False


def register_network(kind: str, builder: NetworkBuilder) -> None:
    """Make ``kind`` loadable; a later registration of the same kind replaces the earlier one."""
    _NETWORKS[kind] = builder


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    for module in _BUILTIN_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    _loaded = True


def known_kinds() -> tuple[str, ...]:
    _load_builtins()
    return tuple(sorted(_NETWORKS))


def build_network(spec: "ModelSpec") -> "nn.Module":
    """The untrained module for ``spec.kind``; ``KeyError`` if no such kind is registered."""
    _load_builtins()
    if spec.kind not in _NETWORKS:
        raise KeyError(f"unknown detector kind {spec.kind!r} (known: {', '.join(known_kinds())})")
    return _NETWORKS[spec.kind](spec)
