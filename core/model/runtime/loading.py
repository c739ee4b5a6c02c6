"""Loading a model for inspection: the exported network when it is valid, torch otherwise.

``load_for_inspection`` reads ``model.json`` and hashes the weights (no torch). A valid export of
those weights (``cache``) whose parity passed opens in the chosen runtime and torch is never
imported. Without one, the model is loaded in torch (``core.model.io.load_model``, with all its
checks), exported and checked once (``export``), and the export is cached for the next start.
Every way back to torch logs a line saying why: the kind declares no export, the export or the
parity failed, the runtime is missing or cannot open the graph, the settings ask for torch.

Thread rule: call it on the thread that will own the model.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.detectors import catalogue
from core.model.model import Engine, Model
from core.model.runtime import RUNTIMES, cache
from core.model.runtime.engines import ENGINES, RuntimeUnavailable, open_engine, precision_of
from core.model.spec import ModelSpec, read_spec_file

log = logging.getLogger(__name__)


def load_for_inspection(folder: str | Path, runtime: str = "auto", threads: int = 0,
                        cache_root: str | Path | None = None) -> Model:
    """The model in ``folder``, its network run by ``runtime`` (``auto``: the fastest runtime
    that passed parity; ``onnxruntime``/``openvino``: that one if it passed; ``torch``).
    ``threads``: the network's CPU threads (0: the runtime decides). ``cache_root``: where to
    keep exports of read-only model folders (the data folder's ``cache/runtime``).
    Raises ``ModelFileInvalid`` as ``load_model`` does."""
    folder = Path(folder)
    root = Path(cache_root) if cache_root is not None else None
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r} (known: {', '.join(RUNTIMES)})")
    if runtime == "torch":
        return _torch(folder, threads, "the settings ask for torch")
    spec_file = read_spec_file(folder)
    try:
        kind = catalogue.get(spec_file.spec.kind)
    except KeyError:
        return _torch(folder, threads, "unknown kind")  # load_model raises the friendly error
    if kind.runtime == "numpy" and kind.numpy_outputs is not None:
        return _numpy(folder, spec_file.spec, kind.numpy_outputs)
    if catalogue.export_of(kind) is None:
        why = ("a composite: its parts load in torch" if kind.runtime == "parts"
               else "it declares no export")
        return _torch(folder, threads, f"the {kind.kind} detector: {why}")
    try:
        sha = cache.weights_sha256(folder)
    except (OSError, ValueError):
        return _torch(folder, threads, "weights unreadable")  # load_model says why
    if spec_file.weights_sha256 is not None and spec_file.weights_sha256 != sha:
        return _torch(folder, threads, "checksum mismatch")  # load_model raises ModelFileInvalid
    exported = cache.find(folder, sha, root)
    model: Model | None = None
    if exported is None:
        model, exported = _export(folder, sha, root, threads)
        if exported is None:
            return model
    engine, why = _open(exported, runtime, threads, spec_file.spec)
    if engine is None:
        model = model if model is not None else _torch(folder, threads, None)
        model.runtime_note = why
        return model
    out = Model(spec_file.spec, None, engine=engine)
    out.runtime_note = why
    log.info("model %s: network runs in %s (%s)", folder, engine.name, why)
    return out


class NumpyEngine:
    """A kind computed in numpy/OpenCV from model.json alone (``runtime="numpy"``)."""

    name = "numpy"

    def __init__(self, spec: ModelSpec, function: Callable[..., tuple[np.ndarray, np.ndarray]]) -> None:
        self._spec, self._function = spec, function

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, maps = self._function(self._spec, batch)
        return np.asarray(scores, np.float32), np.asarray(maps, np.float32)


def _numpy(folder: Path, spec: ModelSpec, ref: str) -> Model:
    """A numpy kind's model: its parameters are in model.json (read and checked above); its
    weights file holds nothing this path uses."""
    model = Model(spec, None, engine=NumpyEngine(spec, catalogue.resolve(ref)))
    model.runtime_note = "computed in numpy"
    log.info("model %s: computed in numpy/OpenCV (no network to run)", folder)
    return model


def _open(exported: cache.Exported, runtime: str, threads: int, spec: ModelSpec
          ) -> tuple[Engine | None, str]:
    if runtime == "auto":
        chosen = str(exported.meta.get("chosen", "torch"))
        order = [chosen] + [r for r in ENGINES if r != chosen]
    else:
        order = [runtime]
    reasons = []
    for name in order:
        if name not in ENGINES:
            continue
        if not exported.passed(name):
            entry = exported.parity(name) or {}
            reasons.append(f"{name} failed parity or was not checked "
                           f"({entry.get('reason') or entry.get('relative_error', 'not run')})")
            continue
        try:
            engine = open_engine(name, exported.onnx, threads, precision_of(spec))
        except RuntimeUnavailable as exc:
            reasons.append(str(exc))
            continue
        entry = exported.parity(name) or {}
        return engine, (f"parity {entry.get('relative_error', 0):.1e} of the raw span, "
                        f"{'fastest measured' if name == exported.meta.get('chosen') else 'asked for'}")
    why = "; ".join(reasons) or "no runtime passed parity"
    log.warning("model's network runs in torch: %s", why)
    return None, why


def _export(folder: Path, sha: str, root: Path | None, threads: int
            ) -> tuple[Model, cache.Exported | None]:
    model = _torch(folder, threads, None)
    place = cache.writable_place(folder, sha, root)
    if place is None:
        log.warning("model %s runs in torch: neither its folder nor a cache folder can be written",
                    folder)
        return model, None
    from core.model.runtime.export import ExportFailed, export_and_check

    try:
        data, record = export_and_check(model, threads)
    except ExportFailed as exc:
        log.warning("model %s runs in torch: its network could not be exported to ONNX (%s)",
                    folder, exc)
        return model, None
    record["weights_sha256"] = sha
    exported = cache.write(place, data, record)
    log.info("model %s exported to %s: %s", folder, place,
             ", ".join(f"{k} {'ok' if v.get('ok') else 'FAILED'}" for k, v in record["runtimes"].items()))
    return model, exported


def _torch(folder: Path, threads: int, why: str | None) -> Model:
    import torch

    from core.model.io import load_model

    if threads > 0:
        torch.set_num_threads(threads)
    model = load_model(folder)
    if why is not None:
        if why not in ("unknown kind", "weights unreadable", "checksum mismatch"):
            log.info("model %s: network runs in torch (%s)", folder, why)
        model.runtime_note = why
    return model
