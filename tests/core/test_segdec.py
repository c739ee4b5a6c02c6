"""segdec (mixed supervision): the network contract, masks and their weights, and training on drawn
scratches with masks for some of them."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.detectors import build_network, catalogue
from core.detectors.segdec.data import split
from core.detectors.segdec.masks import augment_pair, cell_targets, distance_weights, read_mask
from core.errors import Cancelled, DatasetInvalid, ModelFileInvalid
from core.evaluation.evaluate import evaluate_model
from core.model.io import load_model
from core.model.spec import SPEC_FILE, ModelSpec
from core.progress import Progress
from core.scoring.calibration import ScoreScale
from core.training import LabeledImage, TrainConfig, scan_dataset, train_model
from tests.scratches import make_scratch_set, scratched, textured

SIZE = 96


def _spec(**extra) -> ModelSpec:
    unit = ScoreScale(0.0, 0.5, 1.0)
    return ModelSpec(name="s", kind="segdec", backbone="efficientnet_lite0", input_size=SIZE,
                     mean=(0.5,) * 3, std=(0.5,) * 3, score_scale=unit, heatmap_scale=unit,
                     extra={"segdec": extra} if extra else {})


def test_network_maps_at_stride_eight_and_scores_per_image():
    net = build_network(_spec()).eval()
    with torch.inference_mode():
        scores, maps = net(torch.randn(3, 3, SIZE, SIZE))
    assert scores.shape == (3,)
    assert maps.shape == (3, SIZE // 8, SIZE // 8)


def test_detach_stops_the_decision_pulling_on_a_marked_map():
    net = build_network(_spec()).eval()
    feats, deep = (f.detach() for f in net.backbone_features(torch.randn(2, 3, SIZE, SIZE)))
    grads = []
    for detach in (torch.tensor([True, True]), torch.tensor([False, False])):
        net.zero_grad()
        score, _ = net.head(feats, deep, detach_map=detach)
        score.sum().backward()
        grads.append(net.seg_out.weight.grad.abs().sum().item())
    assert grads[0] == 0.0          # only the segmentation loss may move the map's own layer
    assert grads[1] > 0.0           # an unmarked defect teaches the map through the decision


def test_architecture_out_of_bounds_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="seg_channels"):
        build_network(_spec(seg_channels=100000))
    with pytest.raises(ValueError, match="layers"):
        build_network(_spec(layers=[0, 9]))
    with pytest.raises(ValueError, match="smooth"):
        build_network(_spec(smooth=-1))


def test_distance_weights_count_the_centre_fully_and_the_rim_little():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    w = distance_weights(mask)
    assert w[20, 20] == pytest.approx(1.0, abs=0.15)
    assert w[10, 20] < 0.1 and w[0, 0] == 0.0
    target, weight = cell_targets(mask, (5, 5))
    assert target.shape == weight.shape == (5, 5)
    assert target[2, 2] == 1.0 and target[0, 0] == 0.0
    assert weight[0, 0] == 1.0                 # background counts fully
    assert weight[2, 2] > weight[1, 1] > 0.0   # deeper cells of the region count more


def test_a_cell_touched_by_a_thin_scratch_is_a_defect_cell():
    mask = np.zeros((96, 96), bool)
    mask[40:42, 5:90] = True
    target, _ = cell_targets(mask, (12, 12))
    assert target[5].sum() == 12 - 1 or target[5].sum() == 12
    assert target.sum() == target[5].sum()


def test_augmentation_moves_the_mask_with_its_photo():
    rng = np.random.default_rng(3)
    img = np.full((64, 64, 3), 40, np.uint8)
    mask = np.zeros((64, 64), bool)
    img[10:30, 35:55] = 220
    mask[10:30, 35:55] = True
    for _ in range(10):
        out, m = augment_pair(img, mask, rng)
        inside, outside = out[m].mean(), out[~m].mean()
        assert inside > outside + 100


def test_masks_are_found_for_the_defects_that_have_one(tmp_path: Path):
    data = make_scratch_set(tmp_path, n_good=3, n_defect=4, masks=2, size=48)
    samples = scan_dataset(data)
    assert sum(s.mask is not None for s in samples) == 2
    assert all(s.mask is None for s in samples if s.label == 0)
    mask = read_mask(samples[-4].mask, (96, 96))    # resized to the photo it belongs to
    assert mask.shape == (96, 96) and mask.any()
    (data / "masks" / "scratch_000.png").write_bytes(b"not a png")
    with pytest.raises(DatasetInvalid, match="scratch_000"):
        read_mask(data / "masks" / "scratch_000.png", (48, 48))


def test_masks_train_and_validation_takes_unmarked_defects_first():
    some = [LabeledImage(f"g{i}", 0) for i in range(20)] + \
           [LabeledImage(f"d{i}", 1, f"m{i}" if i < 12 else None) for i in range(20)]
    parts = split(some, 0.25, 0)
    assert parts.masks_in_training == 12 and parts.masks_in_validation == 0
    assert len(parts.val) == 10 and len(set(parts.train) | set(parts.val)) == 40
    every = [LabeledImage(f"g{i}", 0) for i in range(20)] + \
            [LabeledImage(f"d{i}", 1, f"m{i}") for i in range(20)]
    parts = split(every, 0.25, 0)
    assert parts.masks_in_validation == 5 and parts.masks_in_training == 15
    assert len(set(parts.train) & set(parts.val)) == 0


def test_catalogue_entry():
    entry = catalogue.get("segdec")
    assert entry.needs_defects and entry.runtime == "onnx"
    assert entry.available()
    assert {o.name for o in entry.options} >= {"epochs", "views", "delta", "head_lr"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("segdec")
    data = make_scratch_set(root / "train", n_good=24, n_defect=24, masks=6, size=SIZE, seed=1)
    messages: list[str] = []
    config = TrainConfig(detector="segdec", input_size=SIZE, epochs=14, batch_size=8, seed=0)
    model = train_model(scan_dataset(data), config, Progress(lambda d, t, m: messages.append(m)), "sd")
    return model, messages, root


@pytest.mark.slow
def test_trains_on_labels_and_a_few_masks_and_says_how_many(trained):
    model, messages, _ = trained
    assert model.spec.kind == "segdec"
    assert model.spec.trained_on["masks_used"] == 6
    assert "used 6 mask(s)" in messages[-1]
    assert model.spec.extra["segdec"]["seg_channels"] > 0


@pytest.mark.slow
def test_scratches_score_higher_and_the_map_follows_the_scratch(trained, tmp_path: Path):
    model, _, _ = trained
    data = make_scratch_set(tmp_path, n_good=10, n_defect=10, masks=10, size=SIZE, seed=7)
    report = evaluate_model(model, data, Progress())
    assert report.image_auroc > 0.9
    assert report.pixel_auroc > 0.9
    assert report.box_hit_rate > 0.5
    rng = np.random.default_rng(5)
    img, mask = scratched(rng, SIZE)
    side = model.inspect_sides([img, textured(rng, SIZE)], ["a", "b"])
    assert side[0].score > side[1].score
    heat = side[0].heatmap
    assert heat[mask > 0].mean() > 2 * heat[cv2.dilate(mask, np.ones((15, 15))) == 0].mean()
    for box in side[0].boxes:   # boxes follow the scratch, not the whole image
        assert (box.x1 - box.x0) * (box.y1 - box.y0) < 0.5 * SIZE * SIZE


@pytest.mark.slow
def test_saved_model_loads_with_the_same_outputs_and_refuses_a_tampered_architecture(trained):
    model, _, root = trained
    folder = root / "model"
    model.save(folder)
    again = load_model(folder)
    rng = np.random.default_rng(2)
    images = [scratched(rng, SIZE)[0] for _ in range(3)]
    a, b = model.raw_outputs(images), again.raw_outputs(images)
    np.testing.assert_allclose(a[0], b[0], atol=1e-4)
    np.testing.assert_allclose(a[1], b[1], atol=1e-4)
    text = (folder / SPEC_FILE).read_text().replace('"seg_channels": 64', '"seg_channels": 32')
    (folder / SPEC_FILE).write_text(text)
    with pytest.raises(ModelFileInvalid):
        load_model(folder)


@pytest.mark.slow
def test_cancel_stops_training(tmp_path: Path):
    data = make_scratch_set(tmp_path, n_good=6, n_defect=6, masks=2, size=48)
    progress = Progress(lambda done, total, message: progress.cancel() if "epoch" in message else None)
    with pytest.raises(Cancelled):
        train_model(scan_dataset(data), TrainConfig(detector="segdec", input_size=48, epochs=5,
                                                    batch_size=4), progress, "x")


@pytest.mark.slow
def test_train_command_says_how_many_masks_it_used(tmp_path: Path, capsys):
    import main

    data = make_scratch_set(tmp_path / "data", n_good=6, n_defect=6, masks=3, size=48, seed=3)
    code = main.main(["--data-dir", str(tmp_path / "station"), "train", str(data), "--out",
                      str(tmp_path / "m"), "--detector", "segdec", "--input-size", "48", "--epochs", "2",
                      "--threads", "1"])
    out = capsys.readouterr().out
    assert code == 0
    used = load_model(tmp_path / "m").spec.trained_on["masks_used"]
    assert 0 < used <= 3 and f"masks: {used} used" in out


def test_the_map_blur_is_torchvisions_gaussian_and_the_network_exports_to_onnx():
    """The catalogue says segdec runs in the ONNX runtime: the whole forward pass exports as one
    graph (the blur a constant convolution) that ONNX Runtime runs with torch's outputs."""
    import io

    from torchvision.transforms.v2.functional import gaussian_blur

    net = build_network(_spec()).eval()
    maps = torch.randn(2, 12, 12)
    expected = gaussian_blur(maps[:, None], [11, 11], [1.5, 1.5])[:, 0]
    torch.testing.assert_close(net.smooth_map(maps), expected, atol=1e-6, rtol=1e-5)
    assert "blur" not in net.state_dict()          # rebuilt from spec.extra, not stored
    buffer = io.BytesIO()
    torch.onnx.export(net, (torch.randn(1, 3, SIZE, SIZE),), buffer, input_names=["x"],
                      output_names=["scores", "maps"], dynamo=False, opset_version=17,
                      dynamic_axes={"x": {0: "batch"}, "scores": {0: "batch"}, "maps": {0: "batch"}})
    import onnxruntime

    session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 3, SIZE, SIZE)
    got = session.run(None, {"x": x.numpy()})
    with torch.inference_mode():
        want = net(x)
    np.testing.assert_allclose(got[0], want[0].numpy(), atol=1e-4)
    np.testing.assert_allclose(got[1], want[1].numpy(), atol=1e-4)
