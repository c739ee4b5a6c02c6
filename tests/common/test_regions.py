"""The region recipe: JSON round trip, defaults, and refusals with a reason."""
from __future__ import annotations

import pytest

from common.regions import RecipeInvalid, RegionRecipe, SideRegion


def test_empty_or_missing_recipe_is_auto_for_every_side():
    for text in (None, "", "  ", "{}"):
        recipe = RegionRecipe.from_json(text)
        assert recipe.for_side("Lid") == SideRegion("auto")


def test_round_trip_keeps_per_side_regions():
    recipe = RegionRecipe(SideRegion("whole"),
                          {"Lid": SideRegion("fixed", "ellipse", (0.1, 0.2, 0.9, 0.8))})
    again = RegionRecipe.from_json(recipe.to_json())
    assert again == recipe
    assert again.for_side("Lid").shape == "ellipse"
    assert again.for_side("Body 0°").mode == "whole"


@pytest.mark.parametrize("text, words", [
    ('{"default": {"mode": "magic"}}', "unknown region mode"),
    ('{"sides": {"Lid": {"mode": "fixed"}}}', "needs its rectangle"),
    ('{"sides": {"Lid": {"mode": "fixed", "box": [0.5, 0.1, 0.4, 0.9]}}}', "inside the photo"),
    ('{"sides": {"Lid": {"mode": "fixed", "box": [0.1, 0.1, 0.105, 0.9]}}}', "too small"),
    ('{"sides": {"Lid": {"mode": "auto", "box": [0, 0, 1, 1]}}}', "only a fixed region"),
    ('{"sides": {"Lid": {"mode": "fixed", "box": [0, 0, "1", 1]}}}', "four numbers"),
    ('{"sides": {"Lid": {"mode": "fixed", "box": [0, 0, NaN, 1]}}}', "finite"),
    ('{"colour": 1}', "unknown key"),
    ("[1, 2]", "JSON object"),
    ("{", "not valid JSON"),
    ("[" * 100_000, "too long"),
])
def test_bad_recipes_are_refused_with_a_reason(text, words):
    with pytest.raises(RecipeInvalid, match=words):
        RegionRecipe.from_json(text)


def test_regions_for_sides_the_product_lacks_are_refused():
    recipe = RegionRecipe(sides={"Top": SideRegion("whole")})
    with pytest.raises(RecipeInvalid, match="Top"):
        recipe.check_sides(["Lid", "Bottom"])
