"""Defect masks for the segmentation sub-network: reading, augmenting with their photo, loss targets.

- ``read_mask``: a person's mask (path or encoded bytes, 8-bit, defect > 127) at the photo's size;
- ``augment_pair``: the station's augmentation (``core.images.augment``: flips, a small rotation and
  zoom, brightness, contrast) applied to a photo and the same geometry to its mask;
- ``cell_targets``: the mask on the network's map grid (a cell is a defect if any of its pixels is)
  and per-cell loss weights after the paper: inside a marked region a pixel counts by its distance
  from the region's edge relative to the region's deepest pixel, squared (``power``), so the centre
  of a rough annotation counts fully and its uncertain rim hardly at all; background cells count 1.

Pure numpy/OpenCV; thread-safe.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.errors import DatasetInvalid
from core.images import augment as station_augment

MASK_LEVEL = 127
DISTANCE_POWER = 2.0


def read_mask(source: str | Path | bytes, shape: tuple[int, int]) -> np.ndarray:
    """The mask as bool ``shape`` (the photo's height, width); ``DatasetInvalid`` if unreadable."""
    if isinstance(source, (bytes, bytearray)):
        raw = cv2.imdecode(np.frombuffer(source, np.uint8), cv2.IMREAD_GRAYSCALE)
        name = "<mask bytes>"
    else:
        raw = cv2.imread(str(source), cv2.IMREAD_GRAYSCALE)
        name = str(source)
    if raw is None:
        raise DatasetInvalid(f"The mask {name} cannot be read as an image; remove it or save it "
                             "again as an 8-bit PNG (defect white on black).")
    if raw.shape != tuple(shape):
        raw = cv2.resize(raw, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return raw > MASK_LEVEL


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """A bool mask squeezed to ``size x size`` like the photo (a pixel is defect if >= 30 % was)."""
    small = cv2.resize(mask.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return small >= 0.3


def augment_pair(img: np.ndarray, mask: np.ndarray | None, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """``core.images.augment.augment`` with the same flips, rotation and zoom applied to ``mask``."""
    out, m = img, mask
    if rng.random() < 0.5:
        out, m = out[:, ::-1], None if m is None else m[:, ::-1]
    if rng.random() < 0.5:
        out, m = out[::-1], None if m is None else m[::-1]
    h, w = out.shape[:2]
    angle = float(rng.uniform(-station_augment.MAX_ROTATION_DEG, station_augment.MAX_ROTATION_DEG))
    zoom = float(rng.uniform(*station_augment.ZOOM))
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, zoom)
    out = cv2.warpAffine(np.ascontiguousarray(out), matrix, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)
    if m is not None:
        m = cv2.warpAffine(np.ascontiguousarray(m, dtype=np.uint8), matrix, (w, h),
                           flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101) > 0
    contrast = float(rng.uniform(*station_augment.CONTRAST))
    brightness = float(rng.uniform(-station_augment.BRIGHTNESS, station_augment.BRIGHTNESS)) * 255.0
    mean = float(out.mean())
    pixels = (out.astype(np.float32) - mean) * contrast + mean + brightness
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8), m


def distance_weights(mask: np.ndarray, power: float = DISTANCE_POWER) -> np.ndarray:
    """float32 weights of a bool mask's pixels: (distance to the edge / the region's deepest)^power
    inside each region, 0 outside."""
    binary = mask.astype(np.uint8)
    out = np.zeros(mask.shape, np.float32)
    if not binary.any():
        return out
    dist = cv2.distanceTransform(binary, cv2.DIST_L2, 3)
    count, found = cv2.connectedComponents(binary, connectivity=8)
    labels = np.asarray(found, dtype=np.intp)
    deepest = np.zeros(count, np.float32)
    np.maximum.at(deepest, labels.ravel(), dist.ravel())
    inside = labels > 0
    out[inside] = (dist[inside] / np.maximum(deepest[labels[inside]], 1e-6)) ** power
    return out


def cell_targets(mask: np.ndarray, grid: tuple[int, int], power: float = DISTANCE_POWER
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(target, weight), float32 ``grid`` (h, w) each, from a bool mask at the input size."""
    gh, gw = grid
    h, w = mask.shape
    # Pad to whole cells, then take each cell's maximum (any defect pixel makes a defect cell).
    ch, cw = -(-h // gh), -(-w // gw)
    padded = np.zeros((gh * ch, gw * cw), np.float32)
    padded[:h, :w] = mask
    target = padded.reshape(gh, ch, gw, cw).max(axis=(1, 3))
    padded[:h, :w] = distance_weights(mask, power)
    depth = padded.reshape(gh, ch, gw, cw).max(axis=(1, 3))
    weight = np.where(target > 0, depth, 1.0).astype(np.float32)
    return target.astype(np.float32), weight
