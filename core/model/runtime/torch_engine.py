"""The torch engine: the network in eager mode, BatchNorm folded and channels-last (or as stored).

Takes the same ``uint8 [B, S, S, 3]`` batch as the exported engines and normalises it the same way
(one multiply-add per channel, float32), so parity compares networks, not preprocessing.

Thread rule: one thread at a time (the model's owner).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


def normaliser(mean: Sequence[float], std: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, shift)`` per channel: ``x * scale + shift == (x / 255 - mean) / std``."""
    s = np.asarray(std, np.float32)
    return (1.0 / (255.0 * s)).astype(np.float32), (-np.asarray(mean, np.float32) / s).astype(np.float32)


def to_tensor(batch: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> torch.Tensor:
    """``uint8 [B, S, S, 3]`` -> normalised float ``[B, 3, S, S]`` in channels-last memory."""
    x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)  # NHWC memory
    return x.float().mul_(torch.from_numpy(scale).reshape(1, 3, 1, 1)).add_(
        torch.from_numpy(shift).reshape(1, 3, 1, 1))


class TorchEngine:
    name = "torch"

    def __init__(self, network: nn.Module, mean: Sequence[float], std: Sequence[float],
                 optimise: bool = True) -> None:
        self.network = network
        self.optimise = optimise
        self._scale, self._shift = normaliser(mean, std)
        self._fast: nn.Module | None = None

    def tensor(self, batch: np.ndarray) -> torch.Tensor:
        x = to_tensor(batch, self._scale, self._shift)
        return x if self.optimise else x.contiguous()

    def module(self, example: torch.Tensor) -> nn.Module:
        """The module that runs: a private BN-folded channels-last copy (the stored network stays
        trainable and savable as it is), or the network itself when not ``optimise``."""
        if self._fast is None and not self.optimise:
            self._fast = self.network.eval()
        if self._fast is None:
            from core.model.fusion import fold_batchnorm

            net = fold_batchnorm(self.network.eval(), example[:1])
            net = net.to(memory_format=torch.channels_last)
            for p in net.parameters():
                p.requires_grad_(False)
            self._fast = net
        return self._fast

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.tensor(batch)
        net = self.module(x)
        with torch.inference_mode():
            s, m = net(x)
        return s.float().numpy(), m.float().numpy()
