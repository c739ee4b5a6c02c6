"""Export a model's network to ONNX and check it against torch (needs torch; run once per weights).

The exported graph takes ``uint8 [B, S, S, 3]`` RGB and does the normalisation itself, so the
inspection process needs no torch and no float preprocessing. The batch size is dynamic. Each
installed runtime opens the graph and runs the fixed inputs (``fixed_inputs``: seeded, smooth
and noisy images, batches of 7 and 1); its largest difference from torch's raw scores and raw
maps, as a share of the model's calibrated raw span, must stay within the kind's tolerance
(``core.detectors.catalogue.Export``). The passing runtime with the lowest median time is recorded
as the choice for ``auto``.

Thread rule: runs on the thread that owns the model.
"""
from __future__ import annotations

import io
import logging
import time
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from core.detectors import catalogue
from core.errors import StationError
from core.model.model import Model
from core.model.runtime.engines import RuntimeUnavailable, installed, open_engine, precision_of
from core.model.runtime.torch_engine import TorchEngine, normaliser

log = logging.getLogger(__name__)

OPSET = 17
TIMING_RUNS = 5


class ExportFailed(StationError):
    """The network could not be exported to ONNX (the model then runs in torch)."""


class _Graph(nn.Module):
    """uint8 NHWC in, the network's ``(raw_scores, raw_maps)`` out."""

    scale: torch.Tensor
    shift: torch.Tensor

    def __init__(self, network: nn.Module, mean: Any, std: Any) -> None:
        super().__init__()
        scale, shift = normaliser(mean, std)
        self.network = network
        self.register_buffer("scale", torch.from_numpy(scale).reshape(1, 3, 1, 1))
        self.register_buffer("shift", torch.from_numpy(shift).reshape(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.permute(0, 3, 1, 2).float() * self.scale + self.shift
        scores, maps = self.network(x)
        return scores, maps


def onnx_bytes(model: Model) -> bytes:
    """The model's network as an ONNX graph (``ExportFailed`` with the reason)."""
    hook = catalogue.export_of(catalogue.get(model.spec.kind))
    if hook is None:
        raise ExportFailed(f"the {model.spec.kind} detector declares no export")
    if model.network is None:
        raise ExportFailed("the model has no torch network to export")
    try:
        network = model.network.eval()
        if hook.module is not None:
            network = catalogue.resolve(hook.module)(network)
        graph = _Graph(network, model.spec.mean, model.spec.std).eval()
        size = model.spec.input_size
        example = torch.zeros(2, size, size, 3, dtype=torch.uint8)
        buffer = io.BytesIO()
        batch = {0: "batch"}
        with torch.inference_mode(False), torch.no_grad():
            # A file-like target works (the stubs say path only).
            torch.onnx.export(graph, (example,), buffer,  # type: ignore[arg-type]
                              dynamo=False, opset_version=OPSET,
                              input_names=["images"], output_names=["raw_scores", "raw_maps"],
                              dynamic_axes={"images": batch, "raw_scores": batch, "raw_maps": batch})
        return buffer.getvalue()
    except ExportFailed:
        raise
    except Exception as exc:
        raise ExportFailed(f"{type(exc).__name__}: {exc}") from exc


def fixed_inputs(size: int, count: int = 7) -> np.ndarray:
    """``uint8 [count, size, size, 3]``: the same images every time (smooth shapes and noise)."""
    rng = np.random.default_rng(20261129)
    out: list[np.ndarray] = []
    for i in range(count):
        if i % 3 == 2:
            out.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        else:
            small = rng.uniform(0, 255, (6, 6, 3)).astype(np.float32)
            smooth = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
            out.append(np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255).astype(np.uint8))
    return np.stack(out)


def spans(model: Model) -> tuple[float, float]:
    """The calibrated raw spans of scores and maps: errors are judged as a share of them."""
    s, h = model.spec.score_scale, model.spec.heatmap_scale
    return (max(abs(s.raw_high - s.raw_low), 1e-6), max(abs(h.raw_high - h.raw_low), 1e-6))


def compare(model: Model, reference: list[tuple[np.ndarray, np.ndarray]],
            engine: Any, batches: list[np.ndarray]) -> dict[str, Any]:
    """Largest raw differences of ``engine`` from ``reference`` on ``batches``, and ok or not."""
    score_span, map_span = spans(model)
    score_err = map_err = 0.0
    for (ref_s, ref_m), batch in zip(reference, batches):
        s, m = engine.run(batch)
        if s.shape != ref_s.shape or m.shape != ref_m.shape:
            return {"ok": False, "reason": f"output shapes {s.shape}, {m.shape} instead of "
                                           f"{ref_s.shape}, {ref_m.shape}"}
        score_err = max(score_err, float(np.max(np.abs(s - ref_s))))
        map_err = max(map_err, float(np.max(np.abs(m - ref_m))))
    tolerance = tolerance_of(model)
    relative = max(score_err / score_span, map_err / map_span)
    ok = bool(np.isfinite(relative) and relative <= tolerance)
    return {"ok": ok, "score_error": score_err, "map_error": map_err, "relative_error": relative,
            "tolerance": tolerance}


def tolerance_of(model: Model) -> float:
    hook = catalogue.export_of(catalogue.get(model.spec.kind))
    return hook.tolerance if hook is not None else 0.0


def median_ms(engine: Any, batch: np.ndarray, runs: int = TIMING_RUNS) -> float:
    engine.run(batch)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        engine.run(batch)
        times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1000.0, 2)


def export_and_check(model: Model, threads: int = 0,
                     runtimes: tuple[str, ...] | None = None) -> tuple[bytes, dict[str, Any]]:
    """The ONNX bytes and the record of each runtime's parity and time (see the docstring)."""
    data = onnx_bytes(model)
    torch_engine = TorchEngine(model.network, model.spec.mean, model.spec.std) \
        if model.network is not None else None
    assert torch_engine is not None
    full = fixed_inputs(model.spec.input_size)
    batches = [full, full[:1]]
    reference = [torch_engine.run(b) for b in batches]
    record: dict[str, Any] = {"runtimes": {}, "torch_ms": median_ms(torch_engine, full),
                              "torch": torch.__version__, "opset": OPSET,
                              "kind": model.spec.kind, "input_size": model.spec.input_size}
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".onnx") as tmp:
        tmp.write(data)
        tmp.flush()
        for name in runtimes if runtimes is not None else installed():
            try:
                engine = open_engine(name, tmp.name, threads, precision_of(model.spec))
                entry = compare(model, reference, engine, batches)
                if entry["ok"]:
                    entry["median_ms"] = median_ms(engine, full)
            except RuntimeUnavailable as exc:
                entry = {"ok": False, "reason": str(exc)}
            except Exception as exc:  # noqa: BLE001 - a runtime failing on the graph is a result
                entry = {"ok": False, "reason": f"{type(exc).__name__}: {exc}"}
            record["runtimes"][name] = entry
    passing = [(v["median_ms"], k) for k, v in record["runtimes"].items() if v.get("ok")]
    record["chosen"] = min(passing)[1] if passing else "torch"
    return data, record

