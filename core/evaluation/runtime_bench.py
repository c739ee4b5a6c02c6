"""The ``bench`` job's runtime comparison: torch, ONNX Runtime and OpenVINO in one process,
interleaved (each repeat runs every row once, so a burst of load from another process hits all
rows alike), with each row's parity against torch, the network's FLOPs and a measured GEMM rate.

Rows per model: ``torch`` (eager, BatchNorm folded, channels-last: the station's torch path), the
exported graph in each installed runtime, and for PatchCore ``torch, before`` (the network as it
ran before the chunked ``addmm`` search and the fixed blur kernel: full query-chunk distance rows
with three elementwise passes, torchvision's blur). Single-threaded use (the job's thread).
"""
from __future__ import annotations

import math
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.images import load_image
from core.model.model import Model
from core.model.runtime.engines import RuntimeUnavailable, installed, open_engine, precision_of
from core.model.runtime.export import onnx_bytes, spans
from core.model.runtime.torch_engine import TorchEngine
from core.model.spec import ModelSpec
from core.scoring.calibration import ScoreScale
from core.sides import DEFAULT_SIDE_NAMES
from core.verdict import inspect_can


@dataclass
class Row:
    model: str
    runtime: str
    inspector: Model
    parity: float = 0.0                 # largest raw difference from torch / calibrated raw span
    can_s: list[float] = field(default_factory=list)
    net_s: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)   # Model.last_stages of each can
    note: str = ""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def gemm_gflops(size: int = 1024, runs: int = 7) -> float:
    """The best float32 matrix-multiply rate of this process's torch threads (GFLOP/s)."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    torch.mm(a, b)
    best = math.inf
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size ** 3 / best / 1e9


def network_gflop(network: nn.Module, batch: torch.Tensor) -> float:
    """Multiply-adds x 2 of one forward pass (torch's FLOP counter: convolutions, matmuls)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        network(batch)
    return counter.get_total_flops() / 1e9


class _PatchCoreBefore(nn.Module):
    """PatchCore's network as it ran before issue 12 (for the "before" row; same weights)."""

    def __init__(self, net: Any) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision.transforms.v2.functional import gaussian_blur

        feats = self.net.patch_features(x)
        b, d, h, w = feats.shape
        queries = feats.permute(0, 2, 3, 1).reshape(-1, d)
        bank = self.net.memory_bank
        bank_sq = (bank * bank).sum(dim=1)
        out = torch.empty(queries.shape[0])
        for start in range(0, queries.shape[0], 2048):
            q = queries[start:start + 2048]
            sq = (q * q).sum(dim=1, keepdim=True) - 2.0 * q @ bank.T + bank_sq
            out[start:start + 2048] = sq.min(dim=1).values.clamp_min(0.0).sqrt()
        up = F.interpolate(out.reshape(b, h, w)[:, None], size=x.shape[-2:], mode="bilinear",
                           align_corners=False)
        width = 2 * int(math.ceil(3 * self.net.sigma)) + 1
        maps = gaussian_blur(up, [width, width], [self.net.sigma, self.net.sigma])[:, 0]
        return maps.amax(dim=(1, 2)), maps


def patchcore_for_timing(images: Sequence[np.ndarray], bank_size: int = 8192) -> Model:
    """A PatchCore model with ImageNet weights whose bank holds the photos' own patches (and
    jittered copies up to ``bank_size``): its time is a real model's of that bank size."""
    from core.detectors.backbones import LITE_MEAN, LITE_STD
    from core.detectors.patchcore.network import PatchCoreNet

    unit = ScoreScale(0.0, 1.0, 2.0)
    spec = ModelSpec(name="patchcore-timing", kind="patchcore", backbone="efficientnet_lite0",
                     input_size=224, mean=LITE_MEAN, std=LITE_STD, score_scale=unit,
                     heatmap_scale=unit,
                     extra={"patchcore": {"bank_size": bank_size, "layers": [2, 3], "sigma": 4.0}})
    net = PatchCoreNet("efficientnet_lite0", bank_size=bank_size, pretrained=True).eval()
    model = Model(spec, net)
    with torch.inference_mode():
        feats = net.patch_features(model.preprocess(images))
    patches = feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])
    gen = torch.Generator().manual_seed(0)
    index = torch.randint(0, patches.shape[0], (bank_size,), generator=gen)
    jitter = torch.randn(bank_size, patches.shape[1], generator=gen) * patches.std() * 0.3
    net.memory_bank.copy_(patches[index] + jitter)
    raw, _ = model.raw_outputs(images)
    low, high = float(raw.min()) * 0.5, float(raw.max()) * 1.5
    scale = ScoreScale(low, (low + high) / 2, high)
    return Model(spec.replace(score_scale=scale, heatmap_scale=scale), net)


def rows_for(label: str, model: Model, images: Sequence[np.ndarray], threads: int,
             before: bool = False) -> list[Row]:
    """torch, (torch before,) and each installed runtime over ``model``'s exported network."""
    assert model.network is not None
    rows = [Row(label, "torch", model.with_engine(None))]
    if before:
        legacy = TorchEngine(_PatchCoreBefore(model.network), model.spec.mean, model.spec.std)
        rows.append(Row(label, "torch, before", model.with_engine(legacy)))
    data = onnx_bytes(model)
    with tempfile.NamedTemporaryFile(suffix=".onnx") as tmp:
        tmp.write(data)
        tmp.flush()
        for name in installed():
            try:
                engine = open_engine(name, tmp.name, threads, precision_of(model.spec))
            except RuntimeUnavailable as exc:
                rows.append(Row(label, name, model, note=str(exc)))
                continue
            rows.append(Row(label, name, model.with_engine(engine)))
    batch = model.batch([v.pixels for v in model.views(list(images))])
    reference = rows[0].inspector.engine.run(batch)
    score_span, map_span = spans(model)
    for row in rows[1:]:
        if row.note:
            continue
        s, m = row.inspector.engine.run(batch)
        row.parity = max(float(np.abs(s - reference[0]).max()) / score_span,
                         float(np.abs(m - reference[1]).max()) / map_span)
    return rows


def run_interleaved(rows: list[Row], jpegs: list[bytes], repeats: int, warmup: int) -> None:
    """Each repeat: every row inspects the can (decode to verdict) once, keeping the stage times
    the model recorded for it, then runs its network once on the can's prepared batch."""
    names = list(DEFAULT_SIDE_NAMES[:len(jpegs)])
    live = [r for r in rows if not r.note]
    batches = {}
    for row in live:
        model = row.inspector
        imgs = [load_image(b) for b in jpegs]
        batches[id(row)] = model.batch([v.pixels for v in model.views(imgs)])
    for i in range(warmup + repeats):
        for row in live:
            t0 = time.perf_counter()
            inspect_can(row.inspector, jpegs, names)
            t1 = time.perf_counter()
            row.inspector.engine.run(batches[id(row)])
            t2 = time.perf_counter()
            if i >= warmup:
                row.can_s.append(t1 - t0)
                row.net_s.append(t2 - t1)
                for key, seconds in row.inspector.last_stages.items():
                    row.stages.setdefault(key, []).append(seconds)
