"""Models on disk: a folder with ``model.json`` (the spec, see ``core.model.spec``) and
``weights.safetensors``. Weights are a flat tensor dict in safetensors; loading never unpickles.
Anything missing, truncated, corrupt, of an unknown kind or not matching the network the spec
describes raises ``ModelFileInvalid`` with the reason.

Thread-safe: functions keep no shared state.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ModelFileInvalid
from core.model.spec import WEIGHTS_FILE, read_spec

if TYPE_CHECKING:
    from core.model.model import Model

_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


def read_safetensors_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``name -> (dtype, shape)`` from the header, after checking it against the file's size."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("the file is shorter than a safetensors header")
            (length,) = struct.unpack("<Q", head)
            if length > _MAX_HEADER or 8 + length > size:
                raise ValueError("the header length is beyond the end of the file (truncated?)")
            header = json.loads(fh.read(length))
    except FileNotFoundError:
        raise ModelFileInvalid(path.parent, f"{path.name} is missing") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFileInvalid(path.parent, f"{path.name} is damaged: {exc}") from None
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    data_len = size - 8 - length
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = info["data_offsets"]
            shape = tuple(int(d) for d in info["shape"])
            dtype = str(info["dtype"])
        except (KeyError, TypeError, ValueError):
            raise ModelFileInvalid(path.parent, f"{path.name} has a malformed entry for {name}") from None
        if not 0 <= start <= end <= data_len:
            raise ModelFileInvalid(path.parent, f"{path.name} is truncated: tensor {name} "
                                                "lies beyond the end of the file")
        out[name] = (dtype, shape)
    return out


def load_model(folder: str | Path) -> Model:
    """Load and check a model folder; raises ``ModelFileInvalid`` with the reason."""
    import torch
    from safetensors.torch import load_file

    from core.detectors import build_network
    from core.model.model import Model

    folder = Path(folder)
    spec = read_spec(folder)
    weights = folder / WEIGHTS_FILE
    header = read_safetensors_header(weights)
    try:
        network = build_network(spec)
    except KeyError as exc:
        raise ModelFileInvalid(folder, str(exc.args[0])) from None
    except Exception as exc:  # noqa: BLE001 - whatever the builder raises, the file is unusable
        raise ModelFileInvalid(folder, f"the network for kind {spec.kind!r} / backbone "
                                       f"{spec.backbone!r} cannot be built ({exc})") from None
    expected = network.state_dict()
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    if missing or unexpected:
        raise ModelFileInvalid(folder, f"the weights do not match a {spec.kind}/{spec.backbone} network "
                                       f"({len(missing)} tensors missing, e.g. {missing[:2]}; "
                                       f"{len(unexpected)} unexpected, e.g. {unexpected[:2]})")
    for name, tensor in expected.items():
        if tuple(tensor.shape) != header[name][1]:
            raise ModelFileInvalid(folder, f"tensor {name} has shape {header[name][1]}, the network "
                                           f"needs {tuple(tensor.shape)}")
    try:
        state = load_file(str(weights))
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types for damaged files
        raise ModelFileInvalid(folder, f"{WEIGHTS_FILE} cannot be read ({exc})") from None
    # Weights may be stored in half precision to keep model folders small; compute in float32.
    state = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ModelFileInvalid(folder, f"tensor {bad[0]} holds NaN or infinite values")
    network.load_state_dict(state, strict=True)
    return Model(spec, network)
