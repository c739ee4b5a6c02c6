"""Inference-only speed-ups that do not change the result: BatchNorm folded into convolutions.

In eval mode a BatchNorm after a convolution is an affine map per channel, so it can be folded into
the convolution's weights and bias exactly (up to float rounding; torch's
``fuse_conv_bn_weights`` does the arithmetic). The pairs are found by tracing
one forward pass with hooks: a BatchNorm whose input tensor IS a convolution's output. The folded
copy is checked against the original on the example batch and discarded if it differs.

Thread rule: works on a private copy; the caller's module is not modified.
"""
from __future__ import annotations

import copy
import logging
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

log = logging.getLogger(__name__)


def fold_batchnorm(module: nn.Module, example: torch.Tensor) -> nn.Module:
    """An eval-mode copy of ``module`` with every conv→BN pair folded; same outputs."""
    source = module
    module = copy.deepcopy(source).eval()
    calls: list[tuple[nn.Module, object, object]] = []
    counts: dict[int, int] = {}

    def hook(mod: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        calls.append((mod, inputs[0], output))
        counts[id(mod)] = counts.get(id(mod), 0) + 1

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    try:
        with torch.inference_mode():
            reference = module(example)
    finally:
        for h in handles:
            h.remove()
    conv_of_output = {id(out): mod for mod, _, out in calls if isinstance(mod, nn.Conv2d)}
    pairs = [(conv_of_output[id(inp)], mod) for mod, inp, _ in calls
             if isinstance(mod, nn.BatchNorm2d) and id(inp) in conv_of_output
             and counts[id(mod)] == 1 and counts[id(conv_of_output[id(inp)])] == 1]
    parents = {id(child): (parent, name) for parent in module.modules()
               for name, child in parent.named_children()}
    with torch.no_grad():
        for conv, bn in pairs:
            assert bn.running_mean is not None and bn.running_var is not None  # eval-mode BN
            conv.weight, conv.bias = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean,
                                                          bn.running_var, bn.eps, bn.weight, bn.bias)
            parent, name = parents[id(bn)]
            # timm's BatchNormAct2d also applies dropout (identity in eval) and the activation.
            tail = [m for m in (getattr(bn, "drop", None), getattr(bn, "act", None)) if m is not None]
            setattr(parent, name, nn.Sequential(*tail) if tail else nn.Identity())
    with torch.inference_mode():
        folded = module(example)
    if not _close(reference, folded):
        log.warning("BatchNorm folding changed the output; using the unfolded network")
        return copy.deepcopy(source).eval()
    log.debug("folded %d BatchNorm layers", len(pairs))
    return module


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)):
        return all(_close(x, y) for x, y in zip(a, b))
    return bool(torch.allclose(a, b, rtol=1e-3, atol=1e-3 * float(a.abs().max()) + 1e-5))
