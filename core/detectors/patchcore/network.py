"""PatchCore-style good-only detector: how far is each patch from the nearest patch of a good can?

After Roth et al., "Towards Total Recall in Industrial Anomaly Detection" (CVPR 2022):

- patch features: two mid-level stages of the pretrained backbone (efficientnet_lite0 stages 2 and 3,
  strides 8 and 16), each averaged over its 3x3 neighbourhood ("locally aware" features), the coarser
  one upsampled to the finer grid and concatenated (40 + 112 = 152 values per patch);
- memory bank: the good images' patch features, reduced by greedy coreset (``core.detectors.patchcore.coreset``); a
  registered buffer, so it is saved in ``weights.safetensors`` with the backbone;
- anomaly map: Euclidean distance of each patch to its nearest bank entry, upsampled to the input
  size and smoothed by a Gaussian (sigma ``SIGMA_PX`` input pixels) inside ``forward``;
- image score: the maximum of the smoothed map, so "score above threshold" and "some region above the
  same level" are the same event (see ``core.detectors.patchcore.training`` for the scales).

The architecture (stages, bank size, sigma) is read from ``spec.extra["patchcore"]`` so that
``load_model`` rebuilds the same module before loading the weights. Thread rule: one thread at a
time uses a module (``Model`` owns it).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from core.detectors import catalogue
from core.detectors.backbones import create_feature_backbone

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

DEFAULT_LAYERS: tuple[int, ...] = catalogue.get("patchcore").option("layers").default
SIGMA_PX: float = catalogue.get("patchcore").option("sigma").default
# Bank entries per distance chunk: a can's 7 x 28 x 28 queries x 1024 floats = 22 MB at a time.
BANK_CHUNK = 1024


class PatchCoreNet(nn.Module):
    memory_bank: torch.Tensor   # a buffer: [bank_size, feature_dim]
    blur_kernel: torch.Tensor   # a buffer, not saved: the 1-D Gaussian of ``sigma``
    extractor: Any              # timm's multi-stage feature extractor

    def __init__(self, backbone: str, bank_size: int, layers: tuple[int, ...] = DEFAULT_LAYERS,
                 sigma: float = SIGMA_PX, pretrained: bool = False) -> None:
        super().__init__()
        if backbone != "efficientnet_lite0":
            # VGG16 comes from torchvision, which has no multi-stage feature extractor here.
            raise ValueError(f"the patchcore detector supports the efficientnet_lite0 backbone, not {backbone!r}")
        self.extractor = create_feature_backbone(backbone, pretrained=pretrained, features_only=True,
                                                 out_indices=tuple(layers))
        self.layers = tuple(layers)
        self.feature_dim = int(sum(self.extractor.feature_info.channels()))
        self.sigma = float(sigma)
        # Filled by the trainer; saved with the weights. float32 in memory (CPU matmuls in half
        # precision are slow); the model folder may store it in half precision.
        self.register_buffer("memory_bank", torch.zeros(bank_size, self.feature_dim))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.register_buffer("blur_kernel", _gaussian_kernel(self.sigma), persistent=False)

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """[B, D, h, w] locally aware patch features on the finest chosen stage's grid."""
        maps = self.extractor(x)
        size = maps[0].shape[-2:]
        pooled = [self.pool(m) for m in maps]
        pooled = [p if p.shape[-2:] == size else
                  F.interpolate(p, size=size, mode="bilinear", align_corners=False) for p in pooled]
        return torch.cat(pooled, dim=1)

    def nearest_distance(self, feats: torch.Tensor) -> torch.Tensor:
        """[B, h, w] Euclidean distance of every patch to its nearest memory-bank entry.

        ||q - m||^2 = ||q||^2 - 2 q.m + ||m||^2: per chunk of the bank, one ``addmm`` gives
        ||m||^2 - 2 q.m and its row minimum is kept; ||q||^2 is added once at the end. No
        [queries, bank] matrix is ever whole (a chunk is ``BANK_CHUNK`` columns) and the loop runs
        over the bank's fixed size, never over the batch, so the ONNX export traces it for any
        batch size.
        """
        b, d, h, w = feats.shape
        queries = feats.permute(0, 2, 3, 1).reshape(-1, d)
        bank = self.memory_bank
        best: torch.Tensor | None = None
        for start in range(0, bank.shape[0], BANK_CHUNK):
            chunk = bank[start:start + BANK_CHUNK]
            part = torch.addmm((chunk * chunk).sum(dim=1), queries, chunk.T, alpha=-2.0).amin(dim=1)
            best = part if best is None else torch.minimum(best, part)
        assert best is not None  # a bank has at least one entry (patchcore_config)
        sq = best + (queries * queries).sum(dim=1)
        return sq.clamp_min(0.0).sqrt().reshape(b, h, w)

    def smooth(self, maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Upsample [B, h, w] to ``size`` and blur with a Gaussian of ``sigma`` pixels there.

        The kernel spans +-3 sigma with reflected borders, as torchvision's ``gaussian_blur``
        (same kernel formula), applied as two 1-D passes with a fixed kernel: cheaper, and it
        exports to ONNX (torchvision builds its kernel at run time, which the exporter refuses).
        """
        up = F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)
        if self.sigma > 0:
            kernel: torch.Tensor = self.blur_kernel
            half = kernel.shape[-1] // 2
            up = F.pad(up, (half, half, half, half), mode="reflect")
            up = F.conv2d(F.conv2d(up, kernel[None, None, None, :]), kernel[None, None, :, None])
        return up[:, 0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.smooth(self.nearest_distance(self.patch_features(x)), (x.shape[-2], x.shape[-1]))
        return maps.amax(dim=(1, 2)), maps


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    """torchvision's 1-D Gaussian of width 2 * ceil(3 sigma) + 1, summing to one."""
    if sigma <= 0:
        return torch.ones(1)
    half = int(math.ceil(3 * sigma))
    x = torch.linspace(-half, half, 2 * half + 1)
    pdf = torch.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


# Bounds on what model.json may ask for (issue 9 item 7): the trainer's largest bank is
# ``PatchCoreOptions.max_bank`` (8192 by default); 2**17 entries of 152 floats are 80 MB.
MAX_BANK = 1 << 17
MAX_SIGMA = 64.0


def patchcore_config(spec: ModelSpec) -> dict:
    """The architecture recorded by the trainer in ``spec.extra['patchcore']``, checked against
    ``MAX_BANK``, the backbone's stages and ``MAX_SIGMA``; ``ValueError`` with the reason."""
    config = dict(spec.extra.get("patchcore", {}))
    if "bank_size" not in config:
        raise ValueError("model.json has no extra.patchcore.bank_size")
    bank, layers = config["bank_size"], config.get("layers", list(DEFAULT_LAYERS))
    sigma = config.get("sigma", SIGMA_PX)
    if type(bank) is not int or not 1 <= bank <= MAX_BANK:
        raise ValueError(f"extra.patchcore.bank_size must be a whole number from 1 to {MAX_BANK}")
    if (not isinstance(layers, (list, tuple)) or not 1 <= len(layers) <= 5
            or any(type(i) is not int or not 0 <= i <= 4 for i in layers) or len(set(layers)) != len(layers)):
        raise ValueError("extra.patchcore.layers must list distinct backbone stages from 0 to 4")
    if type(sigma) not in (int, float) or not 0.0 <= sigma <= MAX_SIGMA:
        raise ValueError(f"extra.patchcore.sigma must be a number from 0 to {MAX_SIGMA:g}")
    return config


def build_patchcore(spec: ModelSpec) -> PatchCoreNet:
    config = patchcore_config(spec)
    return PatchCoreNet(spec.backbone, bank_size=int(config["bank_size"]),
                        layers=tuple(config.get("layers", DEFAULT_LAYERS)),
                        sigma=float(config.get("sigma", SIGMA_PX)), pretrained=False)

