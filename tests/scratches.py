"""Images the detector tests make: a brushed-metal texture, some with a drawn scratch, and its mask.

textured(rng, size) -> RGB uint8: streaks along one direction (brushed metal) and fine noise;
scratched(rng, size) -> (RGB uint8, mask uint8 0/255): the texture with a dark curved scratch a few
    pixels wide at a random place and angle, and the mask of exactly the pixels drawn;
make_scratch_set(folder, n_good, n_defect, masks, size=96, seed=0) -> Path:
    ``folder/good``, ``folder/defect`` and masks for the first ``masks`` defective images only in
    ``folder/masks`` (the layout ``core.training.scan_dataset`` reads). Deterministic for a seed.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def textured(rng: np.random.Generator, size: int = 96) -> np.ndarray:
    base = rng.normal(0.0, 1.0, (size, size)).astype(np.float32)
    streaks = cv2.GaussianBlur(base, (0, 0), sigmaX=6.0, sigmaY=0.6)   # brushed along x
    fine = rng.normal(0.0, 3.0, (size, size)).astype(np.float32)
    level = float(rng.uniform(130, 170))
    grey = level + 25.0 * streaks / (streaks.std() + 1e-6) + fine
    tint = np.array([1.0, 0.98, 0.95], np.float32) * float(rng.uniform(0.95, 1.05))
    return np.clip(grey[..., None] * tint, 0, 255).astype(np.uint8)


def scratched(rng: np.random.Generator, size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    img = textured(rng, size)
    mask = np.zeros((size, size), np.uint8)
    length = rng.uniform(0.25, 0.45) * size
    angle = rng.uniform(0, np.pi)
    cx, cy = rng.uniform(0.3, 0.7, 2) * size
    bend = rng.uniform(-0.15, 0.15) * size
    t = np.linspace(-0.5, 0.5, 12)
    xs = cx + t * length * np.cos(angle) - np.sin(angle) * bend * (1 - 4 * t ** 2)
    ys = cy + t * length * np.sin(angle) + np.cos(angle) * bend * (1 - 4 * t ** 2)
    points = np.stack([xs, ys], axis=1).round().astype(np.int32).reshape(-1, 1, 2)
    width = max(2, size // 32)
    cv2.polylines(mask, [points], False, 255, width)
    darker = img.astype(np.float32)
    darker[mask > 0] *= 0.35
    return darker.astype(np.uint8), mask


def make_scratch_set(folder: str | Path, n_good: int, n_defect: int, masks: int, size: int = 96,
                     seed: int = 0) -> Path:
    folder = Path(folder)
    for sub in ("good", "defect", "masks"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n_good):
        cv2.imwrite(str(folder / "good" / f"good_{i:03d}.png"), textured(rng, size)[:, :, ::-1])
    for i in range(n_defect):
        img, mask = scratched(rng, size)
        cv2.imwrite(str(folder / "defect" / f"scratch_{i:03d}.png"), img[:, :, ::-1])
        if i < masks:
            cv2.imwrite(str(folder / "masks" / f"scratch_{i:03d}.png"), mask)
    return folder
