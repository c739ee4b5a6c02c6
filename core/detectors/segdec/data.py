"""The segdec trainer's data: the split, and every training image's views with their masks.

Split (seeded): as many good and defective images go to validation as ``core.training.stratified_split``
sends there, but the defective ones are drawn from the images nobody marked first, so every mask
trains unless nearly every defect has one (a mask teaches the map far more than a calibration
score needs it).

Views: view 0 of an image is exactly what inspection feeds the network (``prepare_side`` with the
model's region settings, the same function inspection calls); augmented views of marked images are
made by ``masks.augment_pair``, the mask moving with its photo, the others by the regions' own
training views (see ``Views``). Each
training view carries its map-grid target and weights (``masks.cell_targets``) or none (γ = 0: a
defective image nobody marked; a good image's target is empty, γ = 1).

Runs on the training thread; reports progress per photo read.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.detectors.segdec.masks import augment_pair, cell_targets, read_mask, resize_mask
from core.images import load_image
from core.regions.apply import SideView, crop_window, prepare_side
from core.regions.settings import RegionSettings
from core.regions.views import TrainingViews
from core.training.config import LabeledImage
from core.training.dataset import stratified_split


@dataclass
class Split:
    train: np.ndarray        # indices into the samples
    val: np.ndarray
    masks_in_training: int
    masks_in_validation: int


def split(samples: Sequence[LabeledImage], val_fraction: float, seed: int) -> Split:
    labels = np.array([s.label for s in samples])
    train, val = stratified_split(labels, val_fraction, seed)
    masked = np.array([s.mask is not None for s in samples], bool)
    # Same counts per label as the plain stratified split, but the validation's defective images
    # are taken from the unmarked ones first: a mask is a person's work, and it teaches the map.
    val_defect = int((labels[val] == 1).sum())
    order = np.random.default_rng(seed).permutation(len(samples))
    defects = [int(i) for i in order if labels[i] == 1]
    ranked = [i for i in defects if not masked[i]] + [i for i in defects if masked[i]]
    val = np.sort(np.concatenate([val[labels[val] == 0], np.array(ranked[:val_defect], int)]))
    train = np.setdiff1d(np.arange(len(samples)), val)
    return Split(train, val, int(masked[train].sum()), int(masked[val].sum()))


@dataclass
class Example:
    """One view of a training image: pixels at the input size; target/weight None = no mask (γ 0)."""
    pixels: np.ndarray
    target: np.ndarray | None
    weight: np.ndarray | None


class Views:
    """Every training image seen as inspection sees it, with its mask; augmented views on demand.

    ``settings`` (``core.regions.settings.RegionSettings``, None = whole photos): the photos go
    through ``core.regions.views.TrainingViews``, so view 0 is ``prepare_side``'s (the located can,
    the outside blanked: byte for byte what inspection feeds the network) and a good or unmarked
    image's augmented views are its region's (crop jitter, backdrops pasted behind the can). A
    marked image is cut by the same window as its plain view (``mask_in_view``) and augmented with
    its mask (``masks.augment_pair``: flips, rotation, zoom, light), so the mask stays on its defect.
    """

    def __init__(self, samples: Sequence[LabeledImage], size: int, grid: tuple[int, int],
                 settings: RegionSettings | None = None, backdrops: bool = True,
                 step: Callable[[], None] | None = None) -> None:
        self.size, self.grid = size, grid
        self.regions = TrainingViews([s.source for s in samples], settings, size,
                                     backdrops=backdrops, step=step)
        self.plain: list[np.ndarray] = self.regions.plain
        self.masks: list[np.ndarray | None] = []
        for sample in samples:
            if sample.label == 0:
                self.masks.append(np.zeros((size, size), bool))
            elif sample.mask is not None:
                photo = load_image(sample.source)
                view = prepare_side(photo, None, settings, size) if settings is not None else None
                self.masks.append(mask_in_view(read_mask(sample.mask, photo.shape[:2]), view, size))
            else:
                self.masks.append(None)

    def example(self, i: int, rng: np.random.Generator | None) -> Example:
        """View of image ``i``: plain with ``rng`` None, else augmented."""
        pixels, mask = self.plain[i], self.masks[i]
        if rng is not None:
            if mask is not None and mask.any():
                pixels, mask = augment_pair(pixels, mask, rng)
            else:   # nothing marked moves: the region's own augmentation
                pixels = self.regions.augmented(i, rng)
        if mask is None:
            return Example(pixels, None, None)
        target, weight = cell_targets(mask, self.grid)
        return Example(pixels, target, weight)


def mask_in_view(mask: np.ndarray, view: SideView | None, size: int) -> np.ndarray:
    """A photo-sized bool mask as the network sees it: cut by the view's window and kept inside its
    judged region (``view`` None or a whole-photo view: the photo squeezed to ``size``)."""
    if view is None or view.region_mask is None:
        return resize_mask(mask, size)
    crop = crop_window(mask.astype(np.float32), view.window, size)
    return (crop >= 0.3) & view.region_mask.astype(bool)
