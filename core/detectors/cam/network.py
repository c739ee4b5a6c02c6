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
import torch.nn.functional as F
from torch import nn

from core.detectors.backbones import create_trunk
from core.model.spec import ModelSpec

ANOMALY = 1  # class index; class_names = ("Good", "Anomaly")


OUTPUT_STRIDES = (32, 16)


class CamNet(nn.Module):
    """``output_stride`` 16 (efficientnet_lite0 only): the last stride-2 step of the backbone is
    removed and every later depthwise convolution dilated by 2, so the map is twice as fine
    (12x12 instead of 6x6 at 192 px) with the same ImageNet weights and receptive field.

    ``antialias``: every stride-2 convolution of the trunk gets a fixed 3x3 binomial blur in front
    of it (``Blur``), so what it samples every second pixel of has no detail finer than the
    sampling can carry: a can shifted by a pixel then gives nearly the same features (a CNN's
    strided layers alias; R. Zhang, "Making convolutional networks shift-invariant again", 2019).
    Same ImageNet weights; about 5 % more work."""

    def __init__(self, backbone: str, pretrained: bool = False, weights_path: str | None = None,
                 output_stride: int = 32, antialias: bool = False) -> None:
        super().__init__()
        trunk = create_trunk(backbone, pretrained=pretrained, weights_path=weights_path)
        if output_stride not in OUTPUT_STRIDES:
            raise ValueError(f"output stride must be one of {OUTPUT_STRIDES}, not {output_stride}")
        if output_stride == 16:
            _stride16(trunk.stages, backbone)
        if antialias:
            _antialias(trunk.stages)
        self.output_stride = output_stride
        self.antialias = antialias
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


class Blur(nn.Module):
    """A fixed 3x3 binomial low-pass ([1, 2, 1] x [1, 2, 1] / 16) on every channel, stride 1, the
    border reflected: the image keeps its size. Its kernel is a constant, not a weight (not in the
    state dict, not trained)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        kernel = (k[:, None] * k[None, :]) / 16.0
        self.kernel: torch.Tensor
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).contiguous(), persistent=False)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel.to(x.dtype), groups=self.channels)


def _antialias(stages: nn.Sequential) -> None:
    """Put a ``Blur`` in front of every stride-2 convolution of the trunk (the stem and the first
    depthwise convolution of each downsampling block)."""
    for stage in stages:
        for name, module in list(stage.named_modules()):
            if isinstance(module, nn.Conv2d) and module.stride != (1, 1) and name:
                parent = stage.get_submodule(name.rsplit(".", 1)[0]) if "." in name else stage
                setattr(parent, name.rsplit(".", 1)[-1], nn.Sequential(Blur(module.in_channels), module))


def network_options(spec: ModelSpec) -> dict:
    """The CAM network's build options recorded in the model (``extra["network"]``)."""
    return dict(spec.extra.get("network", {})) if isinstance(spec.extra, dict) else {}


def build_cam(spec: ModelSpec) -> CamNet:
    options = network_options(spec)
    return CamNet(spec.backbone, pretrained=False, output_stride=int(options.get("output_stride", 32)),
                  antialias=bool(options.get("antialias", False)))

