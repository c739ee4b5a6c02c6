"""Test helpers shared by core and GUI tests. Keep these names and signatures stable.

make_synthetic_cans(folder, n_good, n_defect, size=96, seed=0) -> Path
    Writes ``folder/good/*.png``, ``folder/defect/*.png`` and ``folder/masks/<stem>.png``: can-like
    images (a shaded cylinder with a label band on a plain background) and, for defects, dark
    dents / rust blobs at random places on the can. Deterministic for a seed. Returns ``folder``.

synthetic_can(rng, size, defects=0) -> (rgb uint8 HxWx3, mask uint8 HxW)
    One image in memory (defects = number of blobs).

build_tiny_model(folder) -> Path
    Trains a real CAM model (efficientnet_lite0, ImageNet weights, 128 px input) on synthetic cans
    in a few seconds and saves it to ``folder / "model"``; returns that model folder.

tiny_model_dir(tmp_path_factory) -> Path
    The same, built once per test session and shared. Treat the folder as read-only; copy it if
    a test must change it. tests/core/conftest.py wraps it as a session fixture; GUI tests can do::

        @pytest.fixture(scope="session")
        def tiny_model_dir(tmp_path_factory):
            return helpers.tiny_model_dir(tmp_path_factory)

    The model's data (synthetic cans it was trained on) lies in ``tiny_model_dir.parent / "data"``.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

TINY_INPUT_SIZE = 128
_SESSION_CACHE: dict[str, Path] = {}


def synthetic_can(rng: np.random.Generator, size: int = 96, defects: int = 0) -> tuple[np.ndarray, np.ndarray]:
    bg = rng.integers(150, 200)
    img = np.full((size, size, 3), bg, np.float32)
    img += rng.normal(0, 3, img.shape)
    x0, x1 = int(size * rng.uniform(0.18, 0.25)), int(size * rng.uniform(0.75, 0.82))
    y0, y1 = int(size * rng.uniform(0.08, 0.14)), int(size * rng.uniform(0.86, 0.92))
    xs = np.linspace(-1, 1, x1 - x0)
    shade = 120 + 100 * np.sqrt(np.clip(1 - xs ** 2, 0, 1))  # a lit cylinder
    img[y0:y1, x0:x1] = shade[None, :, None] * np.array([0.95, 0.97, 1.0])
    band0, band1 = y0 + (y1 - y0) // 3, y0 + 2 * (y1 - y0) // 3
    colour = rng.uniform(0.4, 1.0, 3)
    img[band0:band1, x0:x1] = shade[None, :, None] * colour  # the printed label
    mask = np.zeros((size, size), np.uint8)
    for _ in range(defects):
        r = max(2, int(size * rng.uniform(0.06, 0.1)))
        cx = int(rng.integers(x0 + r, x1 - r))
        cy = int(rng.integers(y0 + r, y1 - r))
        blob = np.zeros((size, size), np.uint8)
        cv2.ellipse(blob, (cx, cy), (r, int(r * rng.uniform(0.6, 1.0))), float(rng.uniform(0, 180)),
                    0, 360, 255, -1)
        rust = rng.random() < 0.5
        tint = np.array([0.55, 0.3, 0.15]) if rust else np.array([0.3, 0.3, 0.3])  # rust or dent
        sel = blob > 0
        img[sel] = img[sel] * tint
        mask |= blob
    return np.clip(img, 0, 255).astype(np.uint8), mask


def make_synthetic_cans(folder: str | Path, n_good: int, n_defect: int, size: int = 96,
                        seed: int = 0) -> Path:
    folder = Path(folder)
    for sub in ("good", "defect", "masks"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n_good):
        img, _ = synthetic_can(rng, size)
        cv2.imwrite(str(folder / "good" / f"good_{i:03d}.png"), img[:, :, ::-1])
    for i in range(n_defect):
        img, mask = synthetic_can(rng, size, defects=int(rng.integers(1, 3)))
        cv2.imwrite(str(folder / "defect" / f"defect_{i:03d}.png"), img[:, :, ::-1])
        cv2.imwrite(str(folder / "masks" / f"defect_{i:03d}.png"), mask)
    return folder


def build_tiny_model(folder: str | Path) -> Path:
    """Train and save a real CAM model on synthetic cans (a few seconds on 2 cores)."""
    from core.progress import Progress
    from core.training import TrainConfig, scan_dataset, train_model

    folder = Path(folder)
    data = make_synthetic_cans(folder / "data", n_good=24, n_defect=24, size=TINY_INPUT_SIZE, seed=1)
    config = TrainConfig(epochs=6, batch_size=16, input_size=TINY_INPUT_SIZE, views=2, lr=1e-2,
                         head_warmup_epochs=2, patience=3, seed=0, source=str(data))
    model = train_model(scan_dataset(data), config, Progress(), name="tiny-test-model")
    model.save(folder / "model")
    return folder / "model"


def tiny_model_dir(tmp_path_factory) -> Path:
    if "dir" not in _SESSION_CACHE:
        _SESSION_CACHE["dir"] = build_tiny_model(tmp_path_factory.mktemp("tiny_model"))
    return _SESSION_CACHE["dir"]
