"""Augmentation that suits photographed cans: flips, small rotations and zoom, brightness, contrast.

A dent or rust spot stays a defect under all of these, and they mimic what changes between real
shots (the can's orientation on the belt, the lighting). Nothing here moves colour hue: rust is
told apart by its colour. Pure numpy/OpenCV on uint8 HxWx3; thread-safe given its own ``rng``.
"""
from __future__ import annotations

import cv2
import numpy as np

MAX_ROTATION_DEG = 12.0
ZOOM = (0.92, 1.08)
BRIGHTNESS = 0.12   # +- fraction of full scale
CONTRAST = (0.85, 1.15)


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly transformed copy of ``img`` (same size and dtype)."""
    out = img
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if rng.random() < 0.5:
        out = out[::-1]
    h, w = out.shape[:2]
    angle = float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    zoom = float(rng.uniform(*ZOOM))
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, zoom)
    # Reflect the border: a constant border would be a tell-tale edge the model could learn.
    out = cv2.warpAffine(np.ascontiguousarray(out), matrix, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)
    contrast = float(rng.uniform(*CONTRAST))
    brightness = float(rng.uniform(-BRIGHTNESS, BRIGHTNESS)) * 255.0
    mean = float(out.mean())
    out = (out.astype(np.float32) - mean) * contrast + mean + brightness
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
