"""The CAM classifier: backbone, global average pooling, a linear layer to Good / Anomaly.

The heatmap is the class-activation map of the 2-class softmax's deciding quantity, the logit
difference: ``m(x, y) = (w_anomaly - w_good) . f(x, y) + (b_anomaly - b_good)``. Because pooling is
an average and the head is linear, the spatial mean of ``m`` IS the logit difference, so the raw
score and the raw map share units and one calibration serves both (the map gets its own scale,
see ``core.detectors.cam.training``). No per-image min-max: a good can's map stays cold.

Thread rule: a module is used by one thread at a time (``Model`` owns it).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from core.detectors.backbones import create_trunk
from core.model.spec import ModelSpec

ANOMALY = 1  # class index; class_names = ("Good", "Anomaly")


OUTPUT_STRIDES = (32, 16)


class CamNet(nn.Module):
    """``output_stride`` 16 (efficientnet_lite0 only): the last stride-2 step of the backbone is
    removed and every later depthwise convolution dilated by 2, so the map is twice as fine
    (12x12 instead of 6x6 at 192 px) with the same ImageNet weights and receptive field."""

    def __init__(self, backbone: str, pretrained: bool = False, weights_path: str | None = None,
                 output_stride: int = 32) -> None:
        super().__init__()
        trunk = create_trunk(backbone, pretrained=pretrained, weights_path=weights_path)
        if output_stride not in OUTPUT_STRIDES:
            raise ValueError(f"output stride must be one of {OUTPUT_STRIDES}, not {output_stride}")
        if output_stride == 16:
            _stride16(trunk.stages, backbone)
        self.output_stride = output_stride
        self.backbone_name = backbone
        self.trunk = trunk.stages
        self.trainable_from = trunk.trainable_from
        self.head = nn.Linear(trunk.channels, 2)
        self.norm_mean, self.norm_std = trunk.mean, trunk.std

    def features(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Run the trunk from stage ``start`` (training feeds cached frozen-stage outputs)."""
        for stage in self.trunk[start:]:
            x = stage(x)
        return x

    def logits(self, feats: torch.Tensor) -> torch.Tensor:
        """Class logits from the last feature maps (what training optimises)."""
        return self.head(feats.mean(dim=(2, 3)))

    def cam(self, feats: torch.Tensor) -> torch.Tensor:
        w = self.head.weight[ANOMALY] - self.head.weight[1 - ANOMALY]
        b = self.head.bias[ANOMALY] - self.head.bias[1 - ANOMALY]
        return torch.einsum("bchw,c->bhw", feats, w) + b

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.cam(self.features(x))
        return maps.mean(dim=(1, 2)), maps


def _stride16(stages: nn.Sequential, backbone: str) -> None:
    """Dilate efficientnet_lite0's last two block groups (stages 6 and 7) instead of striding."""
    if backbone != "efficientnet_lite0":
        raise ValueError(f"output stride 16 is available for efficientnet_lite0, not {backbone}")
    blocks = [*stages[6].children(), *stages[7].children()]
    for i, block in enumerate(blocks):
        conv: Any = block.conv_dw
        if i == 0:
            conv.stride = (1, 1)
            continue
        conv.dilation = (2, 2)
        if not type(conv).__name__.endswith("Same"):  # timm's "same" convs pad for the dilation
            conv.padding = ((conv.kernel_size[0] // 2) * 2, (conv.kernel_size[1] // 2) * 2)


def network_options(spec: ModelSpec) -> dict:
    """The CAM network's build options recorded in the model (``extra["network"]``)."""
    return dict(spec.extra.get("network", {})) if isinstance(spec.extra, dict) else {}


def build_cam(spec: ModelSpec) -> CamNet:
    return CamNet(spec.backbone, pretrained=False,
                  output_stride=int(network_options(spec).get("output_stride", 32)))

