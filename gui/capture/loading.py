"""Reading imported photos: plain functions that run in a worker task (``gui.workers.start_task``).

Threading rule: ``read_images`` is called on a worker thread with a ``Progress`` and returns numpy
arrays, the original bytes and a display QImage (QImage, unlike QPixmap, may be made on any thread);
the panel fills the slots on the GUI thread.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PyQt5.QtGui import QImage

from app.recording import OriginalImage
from core.errors import StationError, UnreadableImage
from core.images import is_image_file, load_image, read_image_file, stored_extension
from core.progress import Progress
from gui.widgets.image_view import prepare_result


@dataclass
class LoadedImages:
    # (file name, RGB, original bytes, display copy made here so the GUI thread only paints)
    images: list[tuple[str, np.ndarray, OriginalImage | None, QImage]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # one sentence per file that was skipped


def images_in_folder(folder: str | Path) -> list[Path]:
    """The image files directly in ``folder``, in name order (the order sides are taken in)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UnreadableImage(folder, "it is not a folder")
    return sorted((p for p in folder.iterdir() if is_image_file(p)),
                  key=lambda p: p.name.lower())


def read_images(progress: Progress, paths: Sequence[str | Path],
                fit: tuple[int, int] | None = None) -> LoadedImages:
    """Read and decode each file; a file that cannot be read is skipped and named in ``errors``.

    ``fit``: the slots' view size; the display copy is made that small here, not on the GUI thread.
    """
    out = LoadedImages()
    for i, path in enumerate(paths):
        progress.check()
        path = Path(path)
        progress.report(i, len(paths), f"Reading {path.name}")
        try:
            data = read_image_file(path, name=path.name)  # regular files within the size limit
            rgb = load_image(data, name=path.name)
        except StationError as exc:
            out.errors.append(str(exc))
            continue
        except OSError as exc:
            out.errors.append(str(UnreadableImage(path.name, exc.strerror or str(exc))))
            continue
        ext = stored_extension(path)
        original = OriginalImage(data, ext) if ext is not None else None
        out.images.append((path.name, rgb, original, prepare_result(rgb, None, fit=fit).photo))
    progress.report(len(paths), len(paths), "")
    return out
