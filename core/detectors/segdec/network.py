"""The segmentation-decision network (``segdec``): a defect map and an image score from one pass.

After Božić, Tabernik and Skočaj, "Mixed supervision for surface-defect detection: from weakly to
fully supervised learning" (Computers in Industry, 2021), sized for a CPU:

- **segmentation sub-network**: the pretrained backbone's early stages (efficientnet_lite0 stages 2
  and 3, strides 8 and 16, the coarser upsampled to the finer grid: 152 values per cell, frozen),
  then three trainable 3x3 convolution-BatchNorm-ReLU blocks (the middle one dilated) to
  ``seg_channels`` features F, and a 1x1 convolution to the **defect map** (one logit per cell of
  the stride-8 grid: 28x28 at 224 px);
- **decision sub-network**: on F concatenated with the map, two max-pool + 3x3 convolution steps,
  then the global mean and maximum of its features, of the map and (``deep``) of a 1x1 convolution
  of the backbone's stride-32 stage (what the surface looks like as a whole: the last frozen stage
  the CAM classifier builds on), and a linear layer to the **image score** (a logit);
- the output map is the segmentation logit smoothed by a Gaussian of ``smooth`` cells (the heat of
  a defect rather than its 8-pixel cells: measured on magnetic_tile, +0.035 pixel AUROC at 2).

``forward(x)`` returns ``(score logits [B], map logits [B, h, w])``: the station's network contract.
``head(features, detach_map)`` is the trainable part on cached backbone features; ``detach_map``
(per image) stops the decision's gradient from flowing into the map where a mask supervises it
(the paper's gradient-flow adjustment), so the map learns from the masks there, and from the
decision (the defect must show where the map peaks) on defective images that have none.

The architecture is read from ``spec.extra["segdec"]`` (checked against bounds) so that
``load_model`` rebuilds the same module. Thread rule: one thread at a time uses a module.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from core.detectors.backbones import create_feature_backbone

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

DEFAULT_LAYERS: tuple[int, ...] = (2, 3)
DEEP_LAYER = 4          # stride 32: what the image looks like as a whole, for the decision only
SEG_CHANNELS = 64
DEC_CHANNELS = 32
SMOOTH = 1.5            # Gaussian sigma of the output map, in map cells
MAX_CHANNELS = 512
MAX_SMOOTH = 8.0

Features = tuple[torch.Tensor, torch.Tensor | None]


class SegDecNet(nn.Module):
    extractor: Any   # timm's multi-stage feature extractor (frozen)
    blur: torch.Tensor

    def __init__(self, backbone: str, layers: tuple[int, ...] = DEFAULT_LAYERS,
                 seg_channels: int = SEG_CHANNELS, dec_channels: int = DEC_CHANNELS,
                 deep: bool = True, smooth: float = SMOOTH, pretrained: bool = False) -> None:
        super().__init__()
        if backbone != "efficientnet_lite0":
            raise ValueError(f"the segdec detector supports the efficientnet_lite0 backbone, not {backbone!r}")
        self.layers, self.deep_layer = tuple(layers), DEEP_LAYER if deep else None
        stages = self.layers + ((DEEP_LAYER,) if deep else ())
        self.extractor = create_feature_backbone(backbone, pretrained=pretrained, features_only=True,
                                                 out_indices=stages)
        channels = list(self.extractor.feature_info.channels())
        width = int(sum(channels[:len(self.layers)]))
        c, d = int(seg_channels), int(dec_channels)
        self.smooth = float(smooth)
        # A fixed kernel, not torchvision's gaussian_blur: the same numbers, and the graph exports
        # to ONNX (a convolution whose kernel is a constant). Not saved: rebuilt from ``smooth``.
        self.register_buffer("blur", gaussian_kernel(self.smooth), persistent=False)
        self.seg = nn.Sequential(_block(width, c), _block(c, c, dilation=2), _block(c, c))
        self.seg_out = nn.Conv2d(c, 1, 1)
        self.dec = nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), _block(c + 1, d),
                                 nn.MaxPool2d(2, ceil_mode=True), _block(d, d))
        self.deep = _block(channels[-1], d, kernel=1) if deep else None
        self.fc = nn.Linear((4 if deep else 2) * d + 2, 1)

    def trainable(self) -> list[nn.Module]:
        """The layers training updates (the backbone stays frozen)."""
        return [m for m in (self.seg, self.seg_out, self.dec, self.deep, self.fc) if m is not None]

    def backbone_features(self, x: torch.Tensor) -> Features:
        """([B, 152, h, w] on the stride-8 grid, [B, 320, h/4, w/4] or None) from the backbone."""
        maps = self.extractor(x)
        deep = maps.pop() if self.deep_layer is not None else None
        size = maps[0].shape[-2:]
        maps = [m if m.shape[-2:] == size else
                F.interpolate(m, size=size, mode="bilinear", align_corners=False) for m in maps]
        return torch.cat(maps, dim=1), deep

    def head(self, feats: torch.Tensor, deep: torch.Tensor | None = None,
             detach_map: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(score logits [B], unsmoothed map logits [B, h, w]) from backbone features.

        ``detach_map`` (bool [B]): images whose map the decision must not pull on (training only).
        """
        f = self.seg(feats)
        seg = self.seg_out(f)
        seen = seg
        if detach_map is not None:
            seen = torch.where(detach_map[:, None, None, None], seg.detach(), seg)
        d = self.dec(torch.cat([f, seen], dim=1))
        pooled = [d.mean(dim=(2, 3)), d.amax(dim=(2, 3)), seen.mean(dim=(2, 3)), seen.amax(dim=(2, 3))]
        if self.deep is not None and deep is not None:
            g = self.deep(deep)
            pooled += [g.mean(dim=(2, 3)), g.amax(dim=(2, 3))]
        return self.fc(torch.cat(pooled, dim=1))[:, 0], seg[:, 0]

    def smooth_map(self, maps: torch.Tensor) -> torch.Tensor:
        """[B, h, w] blurred by a Gaussian of ``smooth`` cells (a defect's heat, not its cell grid)."""
        if self.smooth <= 0:
            return maps
        pad = int(self.blur.shape[-1]) // 2
        return F.conv2d(F.pad(maps[:, None], [pad, pad, pad, pad], mode="reflect"), self.blur)[:, 0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        score, seg = self.head(*self.backbone_features(x))
        return score, self.smooth_map(seg)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """[1, 1, k, k] Gaussian of ``sigma`` cells, k = 2 * ceil(3 sigma) + 1 (torchvision's
    ``gaussian_blur`` kernel, reflect padding applied by the caller); [1, 1, 1, 1] for sigma 0."""
    if sigma <= 0:
        return torch.ones(1, 1, 1, 1)
    width = 2 * int(math.ceil(3 * sigma)) + 1
    x = torch.linspace(-(width - 1) / 2.0, (width - 1) / 2.0, width)
    line = torch.exp(-0.5 * (x / sigma) ** 2)
    line = line / line.sum()
    return torch.outer(line, line)[None, None]


def _block(cin: int, cout: int, dilation: int = 1, kernel: int = 3) -> nn.Sequential:
    """Convolution, BatchNorm (folded into the convolution at inspection), ReLU."""
    pad = dilation * (kernel // 2)
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=pad, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def segdec_config(spec: ModelSpec) -> dict:
    """The architecture in ``spec.extra['segdec']``, checked; ``ValueError`` with the reason."""
    config = dict(spec.extra.get("segdec", {}))
    layers = config.get("layers", list(DEFAULT_LAYERS))
    if (not isinstance(layers, (list, tuple)) or not 1 <= len(layers) <= 3
            or any(type(i) is not int or not 1 <= i <= 3 for i in layers) or len(set(layers)) != len(layers)):
        raise ValueError("extra.segdec.layers must list 1 to 3 distinct backbone stages from 1 to 3")
    for key, default in (("seg_channels", SEG_CHANNELS), ("dec_channels", DEC_CHANNELS)):
        value = config.get(key, default)
        if type(value) is not int or not 1 <= value <= MAX_CHANNELS:
            raise ValueError(f"extra.segdec.{key} must be a whole number from 1 to {MAX_CHANNELS}")
    if type(config.get("deep", True)) is not bool:
        raise ValueError("extra.segdec.deep must be true or false")
    smooth = config.get("smooth", SMOOTH)
    if type(smooth) not in (int, float) or not 0.0 <= smooth <= MAX_SMOOTH:
        raise ValueError(f"extra.segdec.smooth must be a number from 0 to {MAX_SMOOTH:g}")
    return config


def build_segdec(spec: ModelSpec) -> SegDecNet:
    config = segdec_config(spec)
    return SegDecNet(spec.backbone, layers=tuple(config.get("layers", DEFAULT_LAYERS)),
                     seg_channels=int(config.get("seg_channels", SEG_CHANNELS)),
                     dec_channels=int(config.get("dec_channels", DEC_CHANNELS)),
                     deep=bool(config.get("deep", True)), smooth=float(config.get("smooth", SMOOTH)),
                     pretrained=False)
