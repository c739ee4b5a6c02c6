"""Imported by the GUI at start-up (``gui.inference.ENGINE_MODULES``): the installed runtimes,
OpenVINO through ``engines.import_openvino`` (no telemetry thread). No torch."""
from __future__ import annotations

from core.model.runtime.engines import import_openvino, installed

if "onnxruntime" in installed():
    import onnxruntime  # noqa: F401
if "openvino" in installed():
    import_openvino()
