"""The image files the station accepts, by file name: one list for folders, imports and records.

``IMAGE_SUFFIXES`` is what a folder scan or a file dialog takes; ``stored_extension`` is the short
extension a record keeps the original file under ("jpeg" and "tiff" fold into "jpg" and "tif").
What a file really holds is checked when it is decoded (``core.images.io.ALLOWED_FORMATS``).
"""
from __future__ import annotations

from pathlib import Path

_EXTENSIONS = {".jpg": "jpg", ".jpeg": "jpg", ".png": "png", ".bmp": "bmp", ".tif": "tif",
               ".tiff": "tif"}
IMAGE_SUFFIXES: tuple[str, ...] = tuple(_EXTENSIONS)


def is_image_file(path: str | Path) -> bool:
    path = Path(path)
    return path.suffix.lower() in _EXTENSIONS and path.is_file()


def stored_extension(path: str | Path) -> str | None:
    """"jpg", "png", "bmp" or "tif" for an accepted file name; None for any other."""
    return _EXTENSIONS.get(Path(path).suffix.lower())


def file_dialog_filter(title: str = "Images") -> str:
    """A Qt file-dialog filter for the accepted files, e.g. ``Images (*.jpg *.jpeg ...)``."""
    return f"{title} ({' '.join('*' + s for s in IMAGE_SUFFIXES)})"
