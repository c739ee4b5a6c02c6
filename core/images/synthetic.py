"""Synthetic defects painted on good cans: rust, dents and creases, inside the judged region only.

Training (``core.regions.views``, the CAM option ``synthetic``) turns a share of the augmented
views of GOOD photos into defective ones with ``paint_defect``, so the classifier learns what a
defect looks like on the can in front of it (any product, any session) instead of which cans
and sessions the real defects came from. Three kinds, each sized to the judged region:

- ``rust``: one to five irregular patches with soft, noisy edges, brown to orange (hue 10-36
  degrees), with a fine grain; the can's shading shows through a little;
- ``dent``: one or two local smooth warps of the can's pixels (a push in or out, with a small
  drag) and a shading change across the dent (one side lit, the other dark);
- ``crease``: a thin curved line, bright on one side and dark on the other, with the pixels
  beside it pulled towards it (a fold).

Nothing outside ``region_mask`` changes (the result is composed with the original there), and the
returned mask says which pixels changed. Deterministic for a given ``rng`` state.

Pure numpy/OpenCV on uint8 HxWx3; thread-safe given its own ``rng``.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

KINDS = ("rust", "dent", "crease")


def paint_defect(can_pixels: np.ndarray, region_mask: np.ndarray, rng: np.random.Generator,
                 kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(image, mask)``: ``can_pixels`` with a synthetic ``kind`` defect (random when None) inside
    ``region_mask`` (HxW, nonzero = judged), and the uint8 0/1 mask of the pixels that changed.

    A region too small to hold a defect (fewer than 16 pixels) comes back unchanged with an
    empty mask.
    """
    if kind is None:
        kind = KINDS[int(rng.integers(len(KINDS)))]
    if kind not in _PAINTERS:
        raise ValueError(f"unknown synthetic defect {kind!r} (known: {', '.join(KINDS)})")
    region = (np.asarray(region_mask) > 0)
    if region.shape != can_pixels.shape[:2]:
        raise ValueError(f"region mask {region.shape} does not match the image {can_pixels.shape[:2]}")
    area = int(region.sum())
    if area < 16:
        return can_pixels.copy(), np.zeros(region.shape, np.uint8)
    extent = float(np.sqrt(area))          # the region's size, whatever its shape
    painted = _PAINTERS[kind](can_pixels.astype(np.float32), region, extent, rng)
    out = np.where(region[..., None], np.clip(painted + 0.5, 0, 255).astype(np.uint8), can_pixels)
    changed = (out != can_pixels).any(axis=2).astype(np.uint8)
    return out, changed


def _centre(region: np.ndarray, extent: float, rng: np.random.Generator, inset: float) -> tuple[float, float]:
    """A random point of the region at least ``inset`` x extent from its edge when it can be."""
    dist = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 5)
    inner = dist >= inset * extent
    ys, xs = np.nonzero(inner if inner.any() else region)
    i = int(rng.integers(len(ys)))
    return float(xs[i]), float(ys[i])


def _grid(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    return xx, yy


def _smooth_noise(shape: tuple[int, ...], sigma: float, rng: np.random.Generator) -> np.ndarray:
    n = cv2.GaussianBlur(rng.standard_normal(shape[:2]).astype(np.float32), (0, 0), max(0.8, sigma))
    return n / (float(n.std()) + 1e-6)


def _rust(img: np.ndarray, region: np.ndarray, extent: float, rng: np.random.Generator) -> np.ndarray:
    out = img
    xx, yy = _grid(img.shape)
    for _ in range(int(rng.integers(1, 6))):
        cx, cy = _centre(region, extent, rng, 0.08)
        r = float(rng.uniform(0.03, 0.13)) * extent
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
        blob = np.clip(1.2 - d + 0.4 * _smooth_noise(img.shape, r / 4, rng), 0, 1)
        alpha = np.clip(blob * rng.uniform(1.0, 2.0), 0, 1) ** rng.uniform(0.5, 1.5)
        alpha *= rng.uniform(0.75, 1.0)     # a little of the can's shading shows through
        hsv = np.array([[[rng.uniform(5, 18), rng.uniform(130, 230), rng.uniform(60, 170)]]], np.uint8)
        colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
        grain = 1.0 + 0.25 * _smooth_noise(img.shape, 1.0, rng)
        a = alpha[..., None]
        out = out * (1 - a) + colour * grain[..., None] * a
    return out


def _dent(img: np.ndarray, region: np.ndarray, extent: float, rng: np.random.Generator) -> np.ndarray:
    out = img
    xx, yy = _grid(img.shape)
    for _ in range(int(rng.integers(1, 3))):
        cx, cy = _centre(region, extent, rng, 0.12)
        r = float(rng.uniform(0.08, 0.25)) * extent
        dx, dy = xx - cx, yy - cy
        g = np.exp(-(dx ** 2 + dy ** 2) / r ** 2 * rng.uniform(1.0, 2.5)).astype(np.float32)
        push = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.6))
        angle = float(rng.uniform(0, np.pi))
        ax, ay = np.cos(angle), np.sin(angle)
        drag = float(rng.uniform(-0.15, 0.15)) * r
        mapx = (xx + push * g * dx + drag * g * ax).astype(np.float32)
        mapy = (yy + push * g * dy + drag * g * ay).astype(np.float32)
        out = cv2.remap(out, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        light = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.5))
        shade = 1.0 + light * g * (dx * ax + dy * ay) / r
        out = out * shade[..., None]
    return out


def _crease(img: np.ndarray, region: np.ndarray, extent: float, rng: np.random.Generator) -> np.ndarray:
    xx, yy = _grid(img.shape)
    cx, cy = _centre(region, extent, rng, 0.15)
    angle = float(rng.uniform(0, np.pi))
    tx, ty = np.cos(angle), np.sin(angle)          # along the crease
    nx, ny = -ty, tx                                # across it
    along = (xx - cx) * tx + (yy - cy) * ty
    bend = float(rng.uniform(-1.5, 1.5)) / extent  # curvature
    across = (xx - cx) * nx + (yy - cy) * ny - bend * along ** 2
    length = float(rng.uniform(0.25, 0.7)) * extent
    reach = np.exp(-(along / length) ** 4).astype(np.float32)   # the crease fades out at its ends
    width = float(rng.uniform(0.01, 0.04)) * extent
    profile = np.tanh(across / width)
    pull = float(rng.uniform(0.02, 0.06)) * extent * (1 - np.abs(profile)) * reach
    mapx = (xx + pull * nx).astype(np.float32)
    mapy = (yy + pull * ny).astype(np.float32)
    out = cv2.remap(img, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    side = float(rng.choice([-1.0, 1.0]))
    strength = float(rng.uniform(0.3, 0.6))
    shade = 1.0 + strength * side * profile * np.exp(-np.abs(across) / (3 * width)) * reach
    return out * shade[..., None]


_PAINTERS: dict[str, Callable[[np.ndarray, np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "rust": _rust, "dent": _dent, "crease": _crease}
