"""Property-based tests of record() (issue 9, section "Tests that keep it true"): on generated
input it either stores a can that is consistent (verdict never milder than a side, side names of
the product, files of the declared type) or refuses with a ValidationError and stores nothing;
no other exception ever escapes."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db import Station, ValidationError
from db.filestore import image_kind, same_kind
from db.records import NewInspection, NewSide
from db.schema import Inspection
from db.services.record_checks import check_capture_key, validate_new
from tests.db.helpers import PNG, SIDES, World

SEVERITY = {"pass": 0, "review": 1, "reject": 2}
T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
MAGIC = [PNG, b"\xff\xd8\xff\xe0", b"BM", b"II*\x00", b"GIF89a", b"", b"\x00\x01"]

side_names = st.one_of(st.sampled_from(SIDES), st.text(max_size=8))
outcomes = st.sampled_from(["pass", "review", "reject", "maybe"])
scores = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                   st.booleans())
regions = st.one_of(st.none(), st.lists(st.lists(st.integers(-5, 5000), min_size=1,
                                                 max_size=3), max_size=5),
                    st.just([[1.5, 2]]))


@st.composite
def sides(draw) -> NewSide:
    if draw(st.integers(0, 3)):    # mostly well-formed, so that many cans are stored
        ext = draw(st.sampled_from(["png", "jpg", "jpeg", ".PNG"]))
        magic = PNG if ext.lstrip(".").lower() == "png" else b"\xff\xd8\xff\xe0"
        return NewSide(side_name=draw(st.sampled_from(SIDES)),
                       image_bytes=magic + draw(st.binary(max_size=16)), image_ext=ext,
                       heatmap_bytes=draw(st.sampled_from([None, PNG + b"h"])),
                       score=draw(st.floats(-1, 3)),
                       label=draw(st.sampled_from(["Good", "Anomaly"])),
                       outcome=draw(st.sampled_from(["pass", "review", "reject"])),
                       reason=draw(st.text(max_size=20)),
                       region=draw(st.one_of(st.none(), st.lists(st.lists(
                           st.integers(0, 5000), min_size=2, max_size=2), max_size=5))))
    return NewSide(side_name=draw(side_names),
                   image_bytes=draw(st.sampled_from(MAGIC)) + draw(st.binary(max_size=16)),
                   image_ext=draw(st.sampled_from(["png", "jpg", "jpeg", "bmp", "tif", "gif",
                                                   ".PNG", ""])),
                   heatmap_bytes=draw(st.one_of(st.none(), st.sampled_from(MAGIC))),
                   score=draw(scores), label=draw(st.sampled_from(["Good", "Anomaly", "x"])),
                   outcome=draw(outcomes), boxes=draw(st.sampled_from([[], [{"x0": 1}], [1]])),
                   reason=draw(st.one_of(st.just(""), st.text(max_size=20))),
                   region=draw(regions))


inspections = st.builds(
    lambda verdict, s, key, thumb: (verdict, s, key, thumb),
    st.sampled_from(["reject", "reject", "review", "pass", "maybe"]),
    st.lists(sides(), min_size=0, max_size=8, unique_by=lambda side: side.side_name),
    st.one_of(st.none(), st.text(alphabet="abcdef0123456789-", min_size=0, max_size=70)),
    st.one_of(st.none(), st.sampled_from(MAGIC)))


def _rows(station: Station) -> int:
    with station.database.read() as s:
        return s.execute(select(func.count(Inspection.id))).scalar_one()


def _files(station: Station) -> int:
    return sum(1 for p in (station.data_dir / "images").rglob("*") if p.is_file())


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(inspections)
def test_record_stores_consistent_cans_or_refuses_cleanly(station: Station, world: World,
                                                          case: tuple) -> None:
    verdict, new_sides = case[0], case[1]
    new = _new(case, world.product_id)
    rows, files = _rows(station), _files(station)
    try:
        info = station.inspections.record(world.operator, new)
    except ValidationError:
        assert (_rows(station), _files(station)) == (rows, files)
        return
    if info.already_recorded:
        assert _rows(station) == rows
        return
    assert _rows(station) == rows + 1
    assert info.machine_verdict == verdict
    assert all(SEVERITY[verdict] >= SEVERITY[s.outcome] for s in info.sides)
    assert [s.side_name for s in info.sides] == [s.side_name.strip() for s in new_sides]
    assert set(s.side_name for s in info.sides) <= set(SIDES)
    for stored, given_side in zip(info.sides, new_sides):
        data = stored.image_path.read_bytes()
        assert data == given_side.image_bytes and same_kind(given_side.image_ext, image_kind(data))
        assert math.isfinite(stored.score) and stored.score == float(given_side.score)
        assert stored.region == given_side.region
        if stored.heatmap_path is not None:
            assert image_kind(stored.heatmap_path.read_bytes()) == "png"


def _new(case: tuple, product_id: int = 1) -> NewInspection:
    verdict, new_sides, key, thumb = case
    return NewInspection(product_id=product_id, station_name="line-1", started=T0,
                         finished=T0 + timedelta(seconds=1), model_name="m", model_version="1",
                         verdict=verdict, sides=new_sides, thumbnail_bytes=thumb, capture_key=key)


def _valid(case: tuple) -> bool:
    try:
        check_capture_key(case[2])
        validate_new(_new(case), SIDES)
    except ValidationError:
        return False
    return True


def test_the_generator_makes_cans_that_are_stored_and_cans_that_are_refused() -> None:
    """A generator that only ever made refused input would prove nothing."""
    assert _valid(find(inspections, _valid))
    assert not _valid(find(inspections, lambda case: not _valid(case)))
