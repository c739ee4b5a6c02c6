"""Engines that run an exported network: ONNX Runtime and OpenVINO. No torch here.

Both are set up for a station that shares its cores: a fixed number of threads (0 = the
runtime's choice), ONNX Runtime's idle threads sleep instead of spinning, OpenVINO computes in
FP32 unless the model was calibrated for lower precision (its default on CPUs with AMX/AVX-512
BF16 is bf16, which moved raw scores by 0.28 on the default model).

Thread rule: one thread at a time per engine (the model's owner).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import StationError

ENGINES = ("onnxruntime", "openvino")


class RuntimeUnavailable(StationError):
    """The inference runtime asked for is not installed or cannot open the exported network."""


def installed() -> tuple[str, ...]:
    """The runtimes whose Python package is installed (checked without importing them)."""
    return tuple(name for name in ENGINES if _found(name))


def _found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules (None)
        return False


class OrtEngine:
    name = "onnxruntime"

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeUnavailable(f"ONNX Runtime is not installed ({exc})") from None
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(0, int(threads))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(path), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - ORT raises its own types for bad graphs
            raise RuntimeUnavailable(f"ONNX Runtime cannot open {path} ({exc})") from None
        self._input = self._session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, maps = self._session.run(None, {self._input: np.ascontiguousarray(batch)})
        return np.asarray(scores, np.float32), np.asarray(maps, np.float32)


class OpenVinoEngine:
    name = "openvino"

    def __init__(self, path: str | Path, threads: int = 0, precision: str = "f32") -> None:
        try:
            ov = import_openvino()
        except ImportError as exc:
            raise RuntimeUnavailable(f"OpenVINO is not installed ({exc})") from None
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": precision,
                                  "PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        try:
            core = ov.Core()
            self._compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        except Exception as exc:  # noqa: BLE001 - OpenVINO raises RuntimeError for most things
            raise RuntimeUnavailable(f"OpenVINO cannot compile {path} ({exc})") from None
        self._request = self._compiled.create_infer_request()

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self._request.infer({0: np.ascontiguousarray(batch)})
        scores = result[self._compiled.output(0)]
        maps = result[self._compiled.output(1)]
        return np.array(scores, np.float32), np.array(maps, np.float32)  # copies: buffers are reused


def import_openvino() -> Any:
    """``import openvino`` without its model-conversion tools: importing those sends a telemetry
    event from a background thread (network access from a station, and a thread nobody stops),
    and a station reads ONNX files with the runtime alone."""
    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    tools = "openvino.tools.ovc"
    blocked = tools not in sys.modules
    if blocked:
        sys.modules[tools] = None  # type: ignore[assignment]  # openvino skips it on ImportError
    try:
        import openvino
    finally:
        if blocked and sys.modules.get(tools) is None:
            del sys.modules[tools]
    return openvino


def open_engine(name: str, path: str | Path, threads: int = 0,
                precision: str = "f32") -> OrtEngine | OpenVinoEngine:
    """An engine of runtime ``name`` over the ONNX file ``path``; ``RuntimeUnavailable`` if not."""
    if name == "onnxruntime":
        return OrtEngine(path, threads)
    if name == "openvino":
        return OpenVinoEngine(path, threads, precision)
    raise RuntimeUnavailable(f"unknown inference runtime {name!r} (known: {', '.join(ENGINES)})")


def precision_of(spec: Any) -> str:
    """OpenVINO's inference precision: f32 unless ``extra.runtime.precision`` in model.json says
    the model was calibrated for less (``bf16`` or ``f16``)."""
    extra = spec.extra if isinstance(spec.extra, dict) else {}
    runtime = extra.get("runtime", {})
    value = runtime.get("precision", "f32") if isinstance(runtime, dict) else "f32"
    return value if value in ("f32", "bf16", "f16") else "f32"
