"""Models on disk: a folder with ``model.json`` (the spec, see ``core.model.spec``) and
``weights.safetensors``. Loading and saving live here; loading never unpickles.

Loading checks, in this order, before it trusts anything: the spec (bounded, see ``spec``); the
network the spec describes, built on torch's ``meta`` device (names, shapes, dtypes, no memory);
the weights file (a regular file no larger than that network stored in float32 plus a header);
its header (parsed by the safetensors library, whose every complaint becomes a friendly reason)
against that network; the SHA-256 recorded in ``model.json`` (format 2); only then is the real
network built and filled. Every problem raises ``ModelFileInvalid`` with the reason, never another
exception type.

Saving writes a complete folder next to the target and swaps it into place
(``common.atomic.replacing_folder``): a crash or a full disk (``StorageFull``) leaves the previous
model whole.

Thread-safe: functions keep no shared state.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from common.atomic import replacing_folder, write_text
from common.files import FileTooLarge, NotARegularFile, describe_bytes, open_regular
from core.errors import ModelFileInvalid
from core.model.spec import SPEC_FILE, WEIGHTS_FILE, ModelSpec, read_spec_file, spec_json

if TYPE_CHECKING:
    import torch
    from torch import nn

    from core.model.model import Model

log = logging.getLogger(__name__)

MAX_HEADER = 1024 * 1024   # the JSON header of a station model is about 30 kB
# Stored dtypes a tensor may have, by the dtype the network needs (half precision keeps folders small).
_FLOAT_STORED = frozenset({"F32", "F16", "BF16"})
_INT_STORED = frozenset({"I64"})
CHECKSUM_MISMATCH = ("the weights do not match the checksum in model.json: the file was changed or "
                     "damaged")


def load_model(folder: str | Path) -> Model:
    """Load and check a model folder; raises ``ModelFileInvalid`` with the reason."""
    import torch

    from core.detectors import build_network
    from core.model.model import Model

    folder = Path(folder)
    spec_file = read_spec_file(folder)
    spec = spec_file.spec
    expected = _expected_tensors(folder, spec)
    weights = folder / WEIGHTS_FILE
    with _open_weights(folder, weights, expected) as (fh, size):
        _check_header_length(folder, fh, size)
        state = _read_tensors(folder, fh, expected, spec_file.weights_sha256)
    try:
        network = build_network(spec)
    except Exception as exc:  # noqa: BLE001 - whatever the builder raises, the file is unusable
        raise ModelFileInvalid(folder, f"the network for kind {spec.kind!r} / backbone "
                                       f"{spec.backbone!r} cannot be built ({exc})") from None
    # Weights may be stored in half precision to keep model folders small; compute in float32.
    state = {k: v.to(expected[k][1]) if v.is_floating_point() else v for k, v in state.items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ModelFileInvalid(folder, f"tensor {bad[0]} holds NaN or infinite values")
    network.load_state_dict(state, strict=True)
    from core.detectors import catalogue

    loader = catalogue.get(spec.kind).loader  # a kind that is more than its network (a cascade)
    if loader is not None:
        model: Model = catalogue.resolve(loader)(folder, spec, network)
        return model
    return Model(spec, network)


def _expected_tensors(folder: Path, spec: ModelSpec) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """``name -> (shape, dtype)`` of the network the spec describes, built without memory."""
    import torch

    from core.detectors import build_network

    try:
        with torch.device("meta"):
            network: nn.Module = build_network(spec)
    except KeyError as exc:
        raise ModelFileInvalid(folder, str(exc.args[0])) from None
    except Exception as exc:  # noqa: BLE001 - whatever the builder raises, the file is unusable
        raise ModelFileInvalid(folder, f"the network for kind {spec.kind!r} / backbone "
                                       f"{spec.backbone!r} cannot be built ({exc})") from None
    return {k: (tuple(v.shape), v.dtype) for k, v in network.state_dict().items()}


@contextmanager
def _open_weights(folder: Path, path: Path, expected: Mapping[str, tuple]) -> Iterator[tuple[BinaryIO, int]]:
    """The weights file, refused if it is special or larger than the spec's network can hold."""
    # Nothing the network needs is larger than float32 (int64 counters are single values).
    limit = 8 + MAX_HEADER + sum(math.prod(shape) * max(4, dtype.itemsize)
                                 for shape, dtype in expected.values())
    try:
        with open_regular(path, limit) as opened:
            yield opened
    except FileNotFoundError:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} is missing") from None
    except NotARegularFile as exc:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} cannot be used: {exc}") from None
    except FileTooLarge as exc:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} is {describe_bytes(exc.size)}, more than the "
                                       f"network in {SPEC_FILE} can hold "
                                       f"({describe_bytes(exc.limit)})") from None
    except OSError as exc:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} cannot be read ({exc.strerror or exc})") from None


def _check_header_length(folder: Path, fh: BinaryIO, size: int) -> None:
    head = fh.read(8)
    if len(head) < 8:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} is damaged: the file is shorter than a "
                                       "safetensors header")
    (length,) = struct.unpack("<Q", head)
    if 8 + length > size:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} is truncated: its header runs beyond the end "
                                       "of the file")
    if length > MAX_HEADER:
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} is damaged: its header claims "
                                       f"{describe_bytes(length)}, far more than a model needs")


def _read_tensors(folder: Path, fh: BinaryIO, expected: Mapping[str, tuple],
                  checksum: str | None) -> dict[str, torch.Tensor]:
    """Check the header against ``expected`` through the library and the file against
    ``checksum``; only then read the tensors."""
    from safetensors import safe_open

    # The descriptor already checked: the file read is the file whose size and type were checked.
    path = f"/proc/self/fd/{fh.fileno()}"
    if not os.path.exists(path):
        path = fh.name if isinstance(fh.name, str) else str(folder / WEIGHTS_FILE)
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            slices = {k: f.get_slice(k) for k in f.keys()}
            _compare(folder, {k: (tuple(v.get_shape()), v.get_dtype()) for k, v in slices.items()},
                     expected)
            _verify_checksum(folder, fh, checksum)
            return {k: f.get_tensor(k) for k in expected}
    except ModelFileInvalid:
        raise
    except Exception as exc:  # noqa: BLE001 - SafetensorError and whatever a damaged file provokes
        raise ModelFileInvalid(folder, _friendly(str(exc))) from None


def _compare(folder: Path, stored: Mapping[str, tuple], expected: Mapping[str, tuple]) -> None:
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise ModelFileInvalid(folder, f"the weights do not match the network {SPEC_FILE} describes "
                                       f"({len(missing)} tensors missing, e.g. {missing[:2]}; "
                                       f"{len(unexpected)} unexpected, e.g. {unexpected[:2]})")
    for name, (shape, dtype) in expected.items():
        got_shape, got_dtype = stored[name]
        if got_shape != shape:
            raise ModelFileInvalid(folder, f"tensor {name} has shape {got_shape}, the network needs {shape}")
        allowed = _FLOAT_STORED if dtype.is_floating_point else _INT_STORED
        if got_dtype not in allowed:
            raise ModelFileInvalid(folder, f"tensor {name} is stored as {got_dtype}; the network needs "
                                           f"{' or '.join(sorted(allowed))}")


def _friendly(message: str) -> str:
    text = message.lower()
    if "incomplete metadata" in text or "not fully covered" in text:
        return f"{WEIGHTS_FILE} is truncated or has data beyond its tensors"
    if "header" in text or "offset" in text or "json" in text:
        return f"{WEIGHTS_FILE} is damaged: its table of tensors is invalid ({message})"
    return f"{WEIGHTS_FILE} cannot be read ({message})"


def _verify_checksum(folder: Path, fh: BinaryIO, recorded: str | None) -> None:
    if recorded is None:
        log.warning("The model at %s has no checksum for its weights (format 1); it loads, but damage "
                    "to %s would go unnoticed. Re-save it once with: "
                    "python -c \"from core.model.io import resave_model; resave_model('%s')\"",
                    folder, WEIGHTS_FILE, folder)
        return
    if file_sha256(fh) != recorded:
        raise ModelFileInvalid(folder, CHECKSUM_MISMATCH)


def file_sha256(fh: BinaryIO) -> str:
    """SHA-256 in hex of an open binary file's whole content (read from its start, in chunks)."""
    fh.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


# -- saving ------------------------------------------------------------------------------------------
def save_model(model: Model, folder: str | Path, half: bool = False) -> str:
    """Write ``model`` to ``folder`` atomically; returns the weights' SHA-256 (in ``model.json``).

    ``half`` stores floating weights as float16 (half the size; loading casts back). An existing
    folder is replaced only by a complete new one, so a crash or a full disk (``StorageFull``)
    leaves one whole model. Runs on the thread that owns the model.
    """
    from safetensors.torch import save

    if model.network is None:
        raise ValueError("this model was loaded for inspection only (exported network); "
                         "load it with load_model to save it")
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().contiguous()
             for k, v in model.network.state_dict().items()}
    data = save(state, metadata={"format": "pt"})
    checksum = hashlib.sha256(data).hexdigest()
    text = spec_json(model.spec, checksum)
    with replacing_folder(folder) as tmp:
        (tmp / WEIGHTS_FILE).write_bytes(data)
        (tmp / SPEC_FILE).write_text(text, encoding="utf-8")
    return checksum


def resave_model(folder: str | Path) -> str:
    """Record the checksum of ``folder``'s weights in its ``model.json`` (upgrading format 1).

    The model is loaded (so only a valid model gets a checksum); the weights file stays byte for
    byte as it is; ``model.json`` is replaced atomically. Returns the checksum.
    """
    folder = Path(folder)
    spec = load_model(folder).spec
    with open_regular(folder / WEIGHTS_FILE, 1 << 40) as (fh, _size):
        checksum = file_sha256(fh)
    write_text(folder / SPEC_FILE, spec_json(spec, checksum))
    return checksum
