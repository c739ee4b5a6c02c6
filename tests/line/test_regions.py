"""The line inspects with the selected product's regions (issue 8) and records each side's
region; a product whose stored regions cannot be read is refused at selection, with the reason."""
from __future__ import annotations

import sqlite3
from contextlib import closing

import numpy as np
import pytest

from common.regions import RegionRecipe, SideRegion
from core.regions.apply import fixed_outline
from line.can import Selection
from line.errors import RequestRefused
from tests.line.conftest import line_config, running_line
from tests.line.test_faults import wait_recorded, wait_state

ELLIPSE = SideRegion("fixed", "ellipse", (0.2, 0.1, 0.8, 0.9))


def test_the_line_judges_and_records_the_products_fixed_region(line_world):
    st, admin = line_world.station, line_world.admin
    st.products.update(admin, line_world.product_id, region_recipe=RegionRecipe(ELLIPSE).to_json())
    with running_line(line_world, line_config(line_world)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        for step in range(1, 8):
            controller.trigger(step).result(30)
        wait_recorded(controller, 1)
    info = st.inspections.get(admin, st.inspections.page(admin)[0].id)
    assert len(info.sides) == 7
    for side in info.sides:
        assert side.region is not None and side.reason == ""
        outline = np.asarray(side.region)
        expected = fixed_outline(ELLIPSE, 640, 640)      # the emulated camera's 640x640 frames
        assert np.abs(outline.min(axis=0) - expected.min(axis=0)).max() <= 3
        assert np.abs(outline.max(axis=0) - expected.max(axis=0)).max() <= 3


def test_a_product_with_unreadable_regions_is_refused_at_selection(line_world):
    st, admin = line_world.station, line_world.admin
    # what only a hand edit of the database can do (the service checks what it stores)
    with closing(sqlite3.connect(line_world.data_dir / "station.sqlite3")) as db, db:
        db.execute("UPDATE products SET region_recipe = ? WHERE id = ?",
                   ('{"default": {"mode": "sideways"}}', line_world.product_id))
    with pytest.raises(RequestRefused, match="cannot be used") as err:
        Selection.resolve(st, admin, line_config(line_world), line_world.sku)
    assert err.value.code == "config" and "Regions" in str(err.value)
