"""app.regions: what the editor stores for per-side choices, how a product's stored recipe is read
(none: the model's own default), sample photos and the preview of what would be judged."""
from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from app.regions import RecipeUnusable, load_sample, model_locator, preview, product_recipe, recipe_text
from common.regions import RegionRecipe, SideRegion
from core.errors import UnreadableImage

SIDES = ("Lid", "Top", "Bottom")
FIXED = SideRegion("fixed", "rect", (0.1, 0.2, 0.9, 0.8))


def test_recipe_text_is_none_for_all_automatic_and_compact_otherwise():
    assert recipe_text({s: SideRegion() for s in SIDES}) is None
    same = recipe_text({s: FIXED for s in SIDES})
    assert same is not None and RegionRecipe.from_json(same) == RegionRecipe(FIXED)
    mixed = {"Lid": FIXED, "Top": SideRegion(), "Bottom": SideRegion("whole")}
    text = recipe_text(mixed)
    assert text is not None
    back = RegionRecipe.from_json(text)
    assert {s: back.for_side(s) for s in SIDES} == mixed and "Top" not in back.sides


def test_a_products_recipe_none_empty_or_stored():
    assert product_recipe(SimpleNamespace(region_recipe=None, sku="A")) is None
    assert product_recipe(SimpleNamespace(region_recipe="  ", sku="A")) is None
    stored = RegionRecipe(FIXED).to_json()
    assert product_recipe(SimpleNamespace(region_recipe=stored, sku="A")) == RegionRecipe(FIXED)
    with pytest.raises(RecipeUnusable, match="product A .*Regions"):
        product_recipe(SimpleNamespace(region_recipe='{"default": 3}', sku="A"))


def test_samples_and_previews(tmp_path):
    big = np.full((2400, 3200, 3), 120, np.uint8)
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), big)
    assert load_sample(path).shape == (1200, 1600, 3)              # reduced, shape kept
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(UnreadableImage, match="text.jpg"):
        load_sample(tmp_path / "text.jpg")
    image = np.full((300, 400, 3), 128, np.uint8)
    assert preview(image, SideRegion("whole")).outline is None
    fixed = preview(image, FIXED).outline
    assert fixed is not None and tuple(fixed.min(axis=0)) == (40, 60)
    blank = preview(image, SideRegion())
    assert blank.outline is None and blank.reason.startswith("no can found")


def test_the_preview_finds_the_can_as_the_products_model_does(tmp_path, tmp_path_factory):
    """A model trained with the locator's third reading (``preprocessing.tall_reading``) is
    previewed with it: a tall can lit from one side is outlined whole."""
    import json
    import shutil

    from db.errors import NotFound
    from tests.core.regions_helpers import iou, mask_box, tall_can_photo
    from tests.helpers import tiny_model_dir

    image, mask = tall_can_photo(0)
    outlines = {tall: preview(image, SideRegion(), {"tall_reading": tall}).outline for tall in (False, True)}
    box = {tall: (*o.min(axis=0), *(o.max(axis=0) + 1)) for tall, o in outlines.items()}
    assert iou(box[True], mask_box(mask)) >= 0.9 > iou(box[False], mask_box(mask))

    folders = {1: tmp_path / "model", 2: tmp_path / "missing"}
    shutil.copytree(tiny_model_dir(tmp_path_factory), folders[1])

    def get(actor, model_id):
        if model_id not in folders:
            raise NotFound("model", model_id)
        return SimpleNamespace(folder=str(folders[model_id]))

    station = SimpleNamespace(models=SimpleNamespace(get=get))
    spec = json.loads((folders[1] / "model.json").read_text())
    for tall, highpass in ((False, False), (True, False), (False, True)):
        spec["preprocessing"].update(tall_reading=tall, highpass_reading=highpass)
        (folders[1] / "model.json").write_text(json.dumps(spec))
        assert model_locator(station, None, 1) == {"tall_reading": tall, "highpass_reading": highpass}
    del spec["preprocessing"]["tall_reading"], spec["preprocessing"]["highpass_reading"]
    (folders[1] / "model.json").write_text(json.dumps(spec))
    assert model_locator(station, None, 1) == {"tall_reading": False, "highpass_reading": False}  # an older model
    for missing in (None, 2, 3):          # no model, its folder gone, no such model
        assert model_locator(station, None, missing) == {}
