"""Labelled images from a folder, and the seeded split into training and validation."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import DatasetInvalid
from core.images import IMAGE_SUFFIXES, is_image_file
from core.training.config import LabeledImage

MASK_SUFFIX = ".png"


def mask_for(image: Path) -> Path | None:
    """``DATA_DIR/defect/x.jpg`` -> ``DATA_DIR/masks/x.png`` if that file exists, else None."""
    candidate = image.parent.parent / "masks" / f"{image.stem}{MASK_SUFFIX}"
    return candidate if candidate.is_file() else None


def scan_dataset(data_dir: str | Path) -> list[LabeledImage]:
    """Images in ``data_dir/good`` (label 0) and ``data_dir/defect`` (label 1), sorted by name.

    A defective image whose mask lies in ``data_dir/masks/<stem>.png`` carries it
    (``LabeledImage.mask``); masks may exist for only some of them, or none."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetInvalid(f"The data folder {root} does not exist.")
    samples: list[LabeledImage] = []
    for sub, label in (("good", 0), ("defect", 1)):
        folder = root / sub
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if is_image_file(p))
            samples += [LabeledImage(p, label, mask_for(p) if label == 1 else None) for p in files]
    if not samples:
        raise DatasetInvalid(f"{root} holds no images: expected good/ and defect/ sub-folders "
                             f"with {', '.join(IMAGE_SUFFIXES)} files.")
    return samples


def count_labels(samples: Sequence[LabeledImage]) -> tuple[int, int]:
    """(good, defective) counts."""
    defective = sum(1 for s in samples if s.label == 1)
    return len(samples) - defective, defective


def stratified_split(labels: Sequence[int] | np.ndarray, val_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation), shuffled per class with ``seed``.

    Each class with at least two images puts at least one in validation and one in training.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val = int(round(val_fraction * idx.size))
        if idx.size >= 2:
            n_val = min(max(n_val, 1), idx.size - 1)
        else:
            n_val = 0
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
