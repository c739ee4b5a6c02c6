"""Running a model's network outside torch: ONNX export, a cache keyed by the weights, engines.

When a model is loaded for inspection (``load_for_inspection``), its network is exported to ONNX
once (``export``), checked against torch on fixed inputs, and cached next to the model, keyed by
the SHA-256 of its weights (``cache``). Later loads open the cached graph with ONNX Runtime or
OpenVINO (``engines``) and never import torch. Export or parity failure, a missing runtime, or a
detector kind without an export hook (``core.detectors.catalogue.Export``) run the network in
torch instead, with a log line saying why.

An engine takes the batch as ``uint8 [B, S, S, 3]`` RGB (resized, not normalised: normalising is
part of the exported graph) and returns ``(raw_scores [B], raw_maps [B, h, w])`` as float32 numpy.

Thread rule: an engine is used by one thread at a time (the ``Model``'s owner).
"""
from __future__ import annotations

RUNTIMES = ("auto", "onnxruntime", "openvino", "torch")
