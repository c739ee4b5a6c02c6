"""Backbones: the offline ImageNet weights really load; VGG16 fails clearly without them."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data as skimage_data  # dev extra: ships the sample photos; missing = fail

from core.detectors import backbones
from core.errors import WeightsUnavailable


@pytest.fixture(scope="module")
def lite0_classifier():
    return backbones.create_feature_backbone("efficientnet_lite0", pretrained=True).eval()


@pytest.mark.parametrize("photo,expected", [("chelsea", 285), ("coffee", 967)])
def test_efficientnet_lite0_imagenet_weights_classify_known_photos(lite0_classifier, photo, expected):
    import cv2

    rgb = getattr(skimage_data, photo)()[:, :, :3]
    x = cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32)
    x = torch.from_numpy((x - 127.0) / 128.0).permute(2, 0, 1)[None]
    with torch.inference_mode():
        top = int(lite0_classifier(x).argmax())
    assert top == expected


def test_random_weights_do_not_classify_the_cat():
    """The check above can fail: without the weights the cat is not found."""
    import cv2

    torch.manual_seed(0)
    model = backbones.create_feature_backbone("efficientnet_lite0", pretrained=False).eval()
    x = cv2.resize(skimage_data.chelsea(), (224, 224)).astype(np.float32)
    with torch.inference_mode():
        top = int(model(torch.from_numpy((x - 127) / 128).permute(2, 0, 1)[None]).argmax())
    assert top != 285


def test_features_only_extractor_gets_the_same_weights():
    model = backbones.create_feature_backbone("efficientnet_lite0", features_only=True,
                                              out_indices=(1, 2, 3))
    state = backbones.pretrained_timm_state_dict("efficientnet_lite0")
    assert torch.equal(model.conv_stem.weight, state["conv_stem.weight"])
    feats = model(torch.zeros(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == [24, 40, 112]


def test_trunk_stages_produce_the_cam_features():
    trunk = backbones.create_trunk("efficientnet_lite0", pretrained=False)
    assert trunk.channels == 1280 and 0 < trunk.trainable_from < len(trunk.stages)
    with torch.inference_mode():
        out = trunk.stages(torch.zeros(1, 3, 96, 96))
    assert out.shape == (1, 1280, 3, 3)


def test_vgg16_without_internet_or_local_file_says_how_to_fix(monkeypatch):
    from torchvision.models import VGG16_Weights

    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.delenv(backbones.VGG16_WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(type(VGG16_Weights.IMAGENET1K_V1), "get_state_dict", offline)
    with pytest.raises(WeightsUnavailable) as info:
        backbones.create_trunk("vgg16", pretrained=True)
    message = str(info.value)
    assert "could not be downloaded" in message and "--weights" in message
    assert backbones.VGG16_WEIGHTS_ENV in message


def test_vgg16_local_weights_file_is_used_and_checked(tmp_path, monkeypatch):
    bad = tmp_path / "vgg16.pth"
    bad.write_bytes(b"not weights")
    monkeypatch.setenv(backbones.VGG16_WEIGHTS_ENV, str(bad))
    with pytest.raises(WeightsUnavailable, match="vgg16.pth"):
        backbones.create_trunk("vgg16", pretrained=True)


def test_vgg16_random_trunk_shape_and_unknown_name():
    trunk = backbones.create_trunk("vgg16", pretrained=False)
    with torch.inference_mode():
        assert trunk.stages(torch.zeros(1, 3, 64, 64)).shape == (1, 512, 4, 4)
    with pytest.raises(ValueError, match="unknown backbone"):
        backbones.create_trunk("resnet9000")
