"""The CAM classifier: backbone, global average pooling, a linear layer to Good / Anomaly.

The heatmap is the class-activation map of the 2-class softmax's deciding quantity, the logit
difference: ``m(x, y) = (w_anomaly - w_good) . f(x, y) + (b_anomaly - b_good)``. Because pooling is
an average and the head is linear, the spatial mean of ``m`` IS the logit difference, so the raw
score and the raw map share units and one calibration serves both (the map gets its own scale,
see ``core.detectors.cam.training``). No per-image min-max: a good can's map stays cold.

Thread rule: a module is used by one thread at a time (``Model`` owns it).
"""
from __future__ import annotations

import torch
from torch import nn

from core.detectors.backbones import create_trunk
from core.model.spec import ModelSpec

ANOMALY = 1  # class index; class_names = ("Good", "Anomaly")


class CamNet(nn.Module):
    def __init__(self, backbone: str, pretrained: bool = False, weights_path: str | None = None) -> None:
        super().__init__()
        trunk = create_trunk(backbone, pretrained=pretrained, weights_path=weights_path)
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


def build_cam(spec: ModelSpec) -> CamNet:
    return CamNet(spec.backbone, pretrained=False)

