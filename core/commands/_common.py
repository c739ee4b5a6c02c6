"""Shared plumbing of the engine's command-line jobs (not a job itself: the name starts with _)."""
from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import PersonFacingError

if TYPE_CHECKING:
    from core.settings import Settings


def job(func: Callable[..., int]) -> Callable[..., int]:
    """Person-facing errors become one line on stderr and exit 1; Ctrl-C exits 130."""
    @functools.wraps(func)
    def wrapper(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return int(func(args, settings) or 0)
        except PersonFacingError as exc:  # StationError, and StorageFull from common
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    return wrapper


def set_threads(requested: int | None, settings: Settings) -> None:
    import torch

    threads = threads_of(requested, settings)
    if threads:
        torch.set_num_threads(threads)


def threads_of(requested: int | None, settings: Settings) -> int:
    """The network's CPU threads: the flag, else the settings (0: the runtime decides)."""
    return int(requested or getattr(settings, "torch_threads", 0) or 0)


def load_for_inspection(value: str, settings: Settings, threads: int | None = None,
                        runtime: str | None = None) -> Any:
    """The model named by ``value``, loaded to inspect (``core.model.runtime.loading``): its
    exported network in ONNX Runtime / OpenVINO when it has one, torch otherwise."""
    from core.model.runtime.loading import load_for_inspection as load

    return load(resolve_model(value, settings),
                runtime=str(runtime or getattr(settings, "inference_runtime", "auto")),
                threads=threads_of(threads, settings),
                cache_root=Path(settings.data_dir) / "cache" / "runtime")


def resolve_model(value: str, settings: Settings) -> Path:
    """A model folder path, or the name of a model in the data folder's models/."""
    path = Path(value).expanduser()
    if path.exists() or path.is_absolute():
        return path
    named = Path(settings.models_dir) / value
    return named if named.exists() else path
