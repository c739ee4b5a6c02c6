"""Drawn photos for the region tests: a ribbed metal can on a plain or a cluttered backdrop; and
the real photos of the cans data set (read in place)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CANS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "cans"
CANS = CANS if CANS.is_dir() else Path("/work/shared/datasets/cans")


def photos(folder: str = "*") -> list[Path]:
    """The cans data set's JPEGs (``folder``: good, defect or *), sorted; fails when it is missing."""
    found = sorted(CANS.glob(f"{folder}/*.jpg"))
    assert found, f"the cans data set is missing at {CANS}"
    return found


def backdrop(rng: np.random.Generator, size: int, cluttered: bool) -> np.ndarray:
    """A wall above a table; cluttered: a coloured sheet with a curved edge, a box, a cable and
    fine texture, the kinds of things behind the cans in the real photos."""
    img = np.empty((size, size, 3), np.float32)
    horizon = int(size * rng.uniform(0.45, 0.6))
    img[:horizon] = rng.uniform(40, 90, 3)
    img[horizon:] = rng.uniform(80, 140, 3)
    if cluttered:
        sheet = np.zeros((size, size), np.uint8)
        cv2.ellipse(sheet, (int(size * 0.95), int(size * 0.2)), (int(size * 0.25), int(size * 0.5)), 10, 0, 360, 1, -1)
        img[sheet.astype(bool)] = (200, 210, 60)       # a yellow-green sheet at the edge
        cv2.rectangle(img, (int(size * 0.03), int(size * 0.3)), (int(size * 0.15), int(size * 0.55)),
                      (150, 90, 50), -1)               # a brown box at the other edge
        cv2.line(img, (0, int(size * 0.93)), (int(size * 0.3), int(size * 0.99)), (30, 30, 30), 2)  # a cable
        img += cv2.resize(rng.normal(0, 6, (size // 8, size // 8, 3)).astype(np.float32), (size, size))
    img += rng.normal(0, 2.0, img.shape)
    return img


def draw_can(img: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator) -> np.ndarray:
    """A side view of a ribbed, lit metal can inside ``box`` (x0, y0, x1, y1); returns its mask."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    xs = np.linspace(-1, 1, w)
    shade = 110 + 110 * np.sqrt(np.clip(1 - xs ** 2, 0, 1)) ** 0.5
    body = np.repeat(shade[None, :], h, axis=0)
    ribs = (np.arange(h) // max(2, h // 24)) % 2 == 0
    body[ribs] *= 0.7                                   # horizontal ribs
    body[:, np.abs(xs - 0.35) < 0.05] = 250             # a specular highlight
    can = np.stack([body * 0.97, body * 0.98, body], axis=2)
    img[y0:y1, x0:x1] = can
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = 1
    cv2.ellipse(img, ((x0 + x1) // 2, y0), (w // 2, max(2, h // 14)), 0, 0, 360, (200, 200, 205), -1)
    cv2.ellipse(mask, ((x0 + x1) // 2, y0), (w // 2, max(2, h // 14)), 0, 0, 360, 1, -1)
    return mask


def can_photo(seed: int = 0, size: int = 320, cluttered: bool = False,
              box: tuple[float, float, float, float] = (0.38, 0.3, 0.62, 0.78)) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo, can mask) with the can in ``box`` (fractions of the photo)."""
    rng = np.random.default_rng(seed)
    img = backdrop(rng, size, cluttered)
    pix = tuple(int(round(v * size)) for v in box)
    mask = draw_can(img, pix, rng)  # type: ignore[arg-type]
    return np.clip(img, 0, 255).astype(np.uint8), mask


def tall_can_photo(seed: int = 0, size: int = 320, box: tuple[float, float, float, float] = (0.3, 0.09, 0.68, 0.9),
                   dark: float = 0.45) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo, can mask): a ribbed can taller than ``LINE_FRACTION`` of the photo, lit from
    the right: its left part (``dark`` of its width) in shadow, about as dark as the wall, so its
    left side is found only by its long straight silhouette (the big rusty cans of 2022-09-23/24)."""
    rng = np.random.default_rng(seed)
    img = backdrop(rng, size, False)
    x0, y0, x1, y1 = (int(round(v * size)) for v in box)
    w, h = x1 - x0, y1 - y0
    shade = 60 + 170 * np.clip((np.linspace(0, 1, w) - dark) / (1 - dark), 0, 1) ** 0.7
    body = np.repeat(shade[None, :], h, axis=0)
    body[(np.arange(h) // max(2, h // 24)) % 2 == 0] *= 0.8      # horizontal ribs
    img[y0:y1, x0:x1] = np.stack([body * 0.97, body * 0.98, body], axis=2)
    mask = np.zeros((size, size), np.uint8)
    mask[y0:y1, x0:x1] = 1
    return np.clip(img, 0, 255).astype(np.uint8), mask


def can_photo_files(folder, count: int, size: int = 240) -> list[str]:
    """``count`` drawn can photos written as PNG files in ``folder`` (every other one in front of a
    cluttered backdrop); their paths."""
    paths = []
    for seed in range(count):
        path = f"{folder}/can_{seed}.png"
        cv2.imwrite(path, can_photo(seed, size=size, cluttered=bool(seed % 2))[0][:, :, ::-1])
        paths.append(path)
    return paths


def iou(box_a, box_b) -> float:
    ax0, ay0, ax1, ay1 = box_a
    bx0, by0, bx1, by1 = box_b
    inter = max(0, min(ax1, bx1) - max(ax0, bx0)) * max(0, min(ay1, by1) - max(ay0, by0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union else 0.0


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def box_region(box: tuple[int, int, int, int], size: int = 96) -> np.ndarray:
    """A judged region in a ``size x size`` view: the rectangle ``box`` (x0, y0, x1, y1, inclusive)
    as a uint8 0/1 mask, the can the augmentation tests cut and bulge."""
    region = np.zeros((size, size), np.uint8)
    cv2.rectangle(region, box[:2], box[2:], 1, thickness=-1)
    return region


def plain_and_changed_views(photos, size: int = 96, seeds: int = 6, good: bool | None = None, **change):
    """Training views of ``photos`` without and with ``change`` (e.g. ``cut_p=1.0``): asserts the
    plain view (what inspection sees) is the same, then yields, per photo and seed, the count of
    blanked pixels of the augmented view without and with the change."""
    from core.regions.apply import FILL_VALUE
    from core.regions.settings import RegionSettings
    from core.regions.views import TrainingViews

    settings = RegionSettings(margin=-0.02)
    plain = TrainingViews(photos, settings, size, backdrops=False)
    changed = TrainingViews(photos, settings, size, backdrops=False, **change)
    for a, b in zip(plain.plain, changed.plain):
        assert np.array_equal(a, b), "the plain view (what inspection sees) never changes"
    kind = {} if good is None else {"good": good}
    for i in range(len(photos)):
        for seed in range(seeds):
            va = plain.augmented(i, np.random.default_rng(seed), **kind)
            vb = changed.augmented(i, np.random.default_rng(seed), **kind)
            yield np.all(va == FILL_VALUE, axis=2).sum(), np.all(vb == FILL_VALUE, axis=2).sum()
