"""The segmentation-decision network (``segdec``): a defect map and an image score from one pass.

After Božić, Tabernik and Skočaj, "Mixed supervision for surface-defect detection: from weakly to
fully supervised learning" (Computers in Industry, 2021), sized for a CPU:

- **segmentation sub-network**: the pretrained backbone's early stages (efficientnet_lite0 stages 2
  and 3, strides 8 and 16, the coarser upsampled to the finer grid: 152 values per cell, frozen),
  then three trainable 3x3 convolution-BatchNorm-ReLU blocks (the middle one dilated) to
  ``seg_channels`` features F, and a 1x1 convolution to the **defect map** (one logit per cell of
  the stride-8 grid: 28x28 at 224 px);
- **decision sub-network**: on F concatenated with the map, two max-pool + 3x3 convolution steps,
  then the global mean and maximum of its features and of the map, and a linear layer to the
  **image score** (a logit).

``forward(x)`` returns ``(score logits [B], map logits [B, h, w])``: the station's network contract.
``head(features, detach_map)`` is the trainable part on cached backbone features; ``detach_map``
(per image) stops the decision's gradient from flowing into the map where a mask supervises it
(the paper's gradient-flow adjustment), so the map learns from the masks there, and from the
decision (the defect must show where the map peaks) on defective images that have none.

The architecture is read from ``spec.extra["segdec"]`` (checked against bounds) so that
``load_model`` rebuilds the same module. Thread rule: one thread at a time uses a module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from core.detectors.backbones import create_feature_backbone

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

DEFAULT_LAYERS: tuple[int, ...] = (2, 3)
SEG_CHANNELS = 64
DEC_CHANNELS = 32
MAX_CHANNELS = 512


class SegDecNet(nn.Module):
    extractor: Any   # timm's multi-stage feature extractor (frozen)

    def __init__(self, backbone: str, layers: tuple[int, ...] = DEFAULT_LAYERS,
                 seg_channels: int = SEG_CHANNELS, dec_channels: int = DEC_CHANNELS,
                 pretrained: bool = False) -> None:
        super().__init__()
        if backbone != "efficientnet_lite0":
            raise ValueError(f"the segdec detector supports the efficientnet_lite0 backbone, not {backbone!r}")
        self.extractor = create_feature_backbone(backbone, pretrained=pretrained, features_only=True,
                                                 out_indices=tuple(layers))
        self.layers = tuple(layers)
        width = int(sum(self.extractor.feature_info.channels()))
        c, d = int(seg_channels), int(dec_channels)
        self.seg = nn.Sequential(_block(width, c), _block(c, c, dilation=2), _block(c, c))
        self.seg_out = nn.Conv2d(c, 1, 1)
        self.dec = nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), _block(c + 1, d),
                                 nn.MaxPool2d(2, ceil_mode=True), _block(d, d))
        self.fc = nn.Linear(2 * d + 2, 1)

    def trainable(self) -> list[nn.Module]:
        """The layers training updates (the backbone stays frozen)."""
        return [self.seg, self.seg_out, self.dec, self.fc]

    def backbone_features(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 152, h, w] on the finest chosen stage's grid (stride 8)."""
        maps = self.extractor(x)
        size = maps[0].shape[-2:]
        maps = [m if m.shape[-2:] == size else
                F.interpolate(m, size=size, mode="bilinear", align_corners=False) for m in maps]
        return torch.cat(maps, dim=1)

    def head(self, feats: torch.Tensor, detach_map: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """(score logits [B], map logits [B, h, w]) from backbone features.

        ``detach_map`` (bool [B]): images whose map the decision must not pull on (training only).
        """
        f = self.seg(feats)
        seg = self.seg_out(f)
        seen = seg
        if detach_map is not None:
            seen = torch.where(detach_map[:, None, None, None], seg.detach(), seg)
        d = self.dec(torch.cat([f, seen], dim=1))
        pooled = torch.cat([d.mean(dim=(2, 3)), d.amax(dim=(2, 3)),
                            seen.mean(dim=(2, 3)), seen.amax(dim=(2, 3))], dim=1)
        return self.fc(pooled)[:, 0], seg[:, 0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.backbone_features(x))


def _block(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution, BatchNorm (folded into the convolution at inspection), ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def segdec_config(spec: ModelSpec) -> dict:
    """The architecture in ``spec.extra['segdec']``, checked; ``ValueError`` with the reason."""
    config = dict(spec.extra.get("segdec", {}))
    layers = config.get("layers", list(DEFAULT_LAYERS))
    if (not isinstance(layers, (list, tuple)) or not 1 <= len(layers) <= 3
            or any(type(i) is not int or not 1 <= i <= 4 for i in layers) or len(set(layers)) != len(layers)):
        raise ValueError("extra.segdec.layers must list 1 to 3 distinct backbone stages from 1 to 4")
    for key, default in (("seg_channels", SEG_CHANNELS), ("dec_channels", DEC_CHANNELS)):
        value = config.get(key, default)
        if type(value) is not int or not 1 <= value <= MAX_CHANNELS:
            raise ValueError(f"extra.segdec.{key} must be a whole number from 1 to {MAX_CHANNELS}")
    return config


def build_segdec(spec: ModelSpec) -> SegDecNet:
    config = segdec_config(spec)
    return SegDecNet(spec.backbone, layers=tuple(config.get("layers", DEFAULT_LAYERS)),
                     seg_channels=int(config.get("seg_channels", SEG_CHANNELS)),
                     dec_channels=int(config.get("dec_channels", DEC_CHANNELS)), pretrained=False)
