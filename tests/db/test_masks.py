"""Masks drawn with a side correction (issue 13): stored like photos, kept by the side, given to
training, refused when they are not a PNG or mark a side called good, swept with their can."""
from __future__ import annotations

from datetime import timedelta

import cv2
import numpy as np
import pytest

from db import Station, ValidationError
from tests.db.helpers import World, new_inspection


def _png(marked: bool = True) -> bytes:
    mask = np.zeros((40, 60), np.uint8)
    if marked:
        mask[10:20, 5:30] = 255
    return cv2.imencode(".png", mask)[1].tobytes()


def test_a_mask_is_kept_with_the_side_and_reaches_training(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(world.product_id, "m", "pass"))
    side = info.sides[2]
    station.corrections.correct_side(world.supervisor, side.id, "Anomaly", "dent", mask=_png())
    rows = {s.side_result_id: s for s in station.inspections.labelled_sides(world.supervisor)}
    marked = rows[side.id]
    assert marked.label == "Anomaly" and marked.mask_path is not None
    assert marked.mask_path.read_bytes() == _png()
    assert all(s.mask_path is None for k, s in rows.items() if k != side.id)
    event = station.audit.list(world.admin, action="correction.side")[0]
    assert event.details["mask_sha256"] == marked.mask_path.stem
    # A later correction without a mask keeps the drawn one (newest mask wins, not newest label).
    station.corrections.correct_side(world.supervisor, side.id, "Anomaly", "still a dent")
    again = {s.side_result_id: s for s in station.inspections.labelled_sides(world.supervisor)}
    assert again[side.id].mask_path == marked.mask_path


def test_masks_that_are_not_png_or_mark_a_good_side_are_refused(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(world.product_id, "r", "pass"))
    side = info.sides[0]
    with pytest.raises(ValidationError, match="PNG"):
        station.corrections.correct_side(world.supervisor, side.id, "Anomaly", mask=b"GIF89a....")
    with pytest.raises(ValidationError, match="Anomaly"):
        station.corrections.correct_side(world.supervisor, side.id, "Good", mask=_png())
    assert station.audit.list(world.admin, action="correction.side") == []
    assert all(s.mask_path is None for s in station.inspections.labelled_sides(world.supervisor))


def test_a_mask_file_lives_while_its_side_does(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(world.product_id, "d", "pass"))
    station.corrections.correct_side(world.supervisor, info.sides[1].id, "Anomaly", mask=_png())
    path = next(s.mask_path for s in station.inspections.labelled_sides(world.supervisor)
                if s.mask_path is not None)
    station.sweep_files(grace=timedelta(0), full=True)
    assert path.is_file()          # a row points at it: the sweep keeps it
    station.inspections.delete(world.admin, info.id, "wrong product")
    assert not path.exists()       # the can's delete takes its mask with it
