"""Recording, reading, browsing, deleting and exporting inspections."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest

from db import GalleryFilter, NotFound, PermissionDenied, Station, ValidationError
from db.records import NewInspection, NewSide
from tests.db.helpers import PNG, SIDES, World, new_inspection, new_side, sha, snapshot

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_record_stores_rows_and_content_addressed_files(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(
        world.product_id, "a", "reject", thumbnail=True, bad_sides=("side-60",)))
    assert (info.operator_name, info.warehouse_name, info.product_sku) == (
        "otto", "Hall A", "BEANS-400")
    assert info.verdict == info.machine_verdict == "reject" and info.corrected_verdict is None
    assert [s.side_name for s in info.sides] == list(SIDES)
    bad = info.sides[3]
    assert bad.label == "Anomaly" and bad.outcome == "reject" and bad.boxes[0]["score"] == 0.7
    for side in info.sides:
        data = side.image_path.read_bytes()
        assert sha(data) == side.image_sha256 == side.image_path.stem
        assert side.image_path.parent.parent.parent == station.data_dir / "images"
        assert side.heatmap_path.read_bytes().startswith(PNG + b"heat ")
    assert info.thumbnail_path.suffix == ".png" and info.thumbnail_path.is_file()
    assert station.inspections.get(world.operator, info.id) == info


def test_warehouse_is_kept_as_it_was_when_recorded(station: Station, world: World) -> None:
    first = station.inspections.record(world.operator, new_inspection(world.product_id, "1"))
    b = station.warehouses.create(world.admin, "Hall B", 500)
    station.products.update(world.admin, world.product_id, warehouse_id=b.id)
    second = station.inspections.record(world.operator, new_inspection(world.product_id, "2"))
    assert station.inspections.get(world.admin, first.id).warehouse_name == "Hall A"
    assert second.warehouse_name == "Hall B"


@pytest.mark.parametrize("change,field", [
    (dict(verdict="maybe"), "verdict"),
    (dict(sides=[]), "sides"),
    (dict(sides=[new_side("top"), new_side("top", "x")]), "sides"),
    (dict(sides=[new_side("top", label="Fine")]), "label"),
    (dict(finished=T0 - timedelta(seconds=1)), "finished"),
    (dict(station_name=""), "station_name"),
])
def test_invalid_input_stores_nothing(station: Station, world: World, change: dict,
                                      field: str) -> None:
    base = new_inspection(world.product_id, started=T0)
    bad = NewInspection(**{**base.__dict__, **change})
    before = snapshot(station)
    with pytest.raises(ValidationError) as e:
        station.inspections.record(world.operator, bad)
    assert e.value.field == field
    assert snapshot(station) == before


def test_unknown_product(station: Station, world: World) -> None:
    with pytest.raises(NotFound):
        station.inspections.record(world.operator, new_inspection(9999))


def test_operators_see_only_their_own(station: Station, world: World) -> None:
    mine = station.inspections.record(world.operator, new_inspection(world.product_id, "o"))
    theirs = station.inspections.record(world.operator2, new_inspection(world.product_id, "p"))
    assert station.inspections.get(world.operator, mine.id).id == mine.id
    with pytest.raises(PermissionDenied):
        station.inspections.get(world.operator, theirs.id)
    # Asking the gallery for someone else's gives one's own anyway.
    asked = GalleryFilter(operator_id=world.operator2.user_id)
    assert [r.id for r in station.inspections.page(world.operator, asked)] == [mine.id]
    assert station.inspections.count(world.operator) == 1
    assert station.inspections.count(world.supervisor) == 2
    assert station.inspections.get(world.supervisor, theirs.id).operator_name == "olga"


def _fill(station: Station, world: World) -> dict:
    """12 inspections over 4 days, 2 products, 2 operators, verdicts in a fixed pattern."""
    peas = station.products.create(world.admin, "PEAS", "Peas", world.warehouse_id, 0, SIDES)
    ids = {}
    for n in range(12):
        who = world.operator if n % 2 == 0 else world.operator2
        product = world.product_id if n % 3 else peas.id
        verdict = ("pass", "pass", "review", "reject")[n % 4]
        started = T0 + timedelta(days=n // 3, minutes=n)
        ids[n] = station.inspections.record(who, new_inspection(
            product, str(n), verdict, started, bad_sides=("top",) if verdict != "pass" else ())
        ).id
    return {"peas": peas.id, "ids": ids}


def test_gallery_filters_sort_and_pages(station: Station, world: World) -> None:
    made = _fill(station, world)
    sup = world.supervisor
    everything = station.inspections.page(sup, None, "-started", 0, 100)
    assert [r.id for r in everything] == [made["ids"][n] for n in reversed(range(12))]
    by_product = GalleryFilter(product_id=made["peas"])
    assert station.inspections.count(sup, by_product) == 4
    assert {r.product_sku for r in station.inspections.page(sup, by_product)} == {"PEAS"}
    days = GalleryFilter(date_from=date(2026, 3, 3), date_to=date(2026, 3, 4))
    assert sorted(r.day for r in station.inspections.page(sup, days)) == [date(2026, 3, 3)] * 3 \
        + [date(2026, 3, 4)] * 3
    rejects = GalleryFilter(verdict="reject")
    assert {r.verdict for r in station.inspections.page(sup, rejects)} == {"reject"}
    assert station.inspections.count(sup, rejects) == 3
    olga = GalleryFilter(operator_id=world.operator2.user_id, warehouse_id=world.warehouse_id)
    assert station.inspections.count(sup, olga) == 6
    # Pages follow each other without gaps or repeats, for every sort key.
    for key in ("started", "-verdict", "product", "-operator", "station", "warehouse"):
        pages = [station.inspections.page(sup, None, key, off, 5) for off in (0, 5, 10)]
        got = [r.id for page in pages for r in page]
        assert sorted(got) == sorted(made["ids"].values()), key
    with pytest.raises(ValidationError):
        station.inspections.page(sup, None, "colour")
    with pytest.raises(ValidationError):
        station.inspections.page(sup, GalleryFilter(verdict="bad"))
    with pytest.raises(ValidationError):
        station.inspections.page(sup, None, limit=0)


def test_delete_removes_row_then_unshared_files(station: Station, world: World) -> None:
    a = station.inspections.record(world.operator, new_inspection(world.product_id, "a",
                                                                  thumbnail=True))
    # b shares a's "top" image bytes (same content, same file) but nothing else.
    b_new = new_inspection(world.product_id, "b")
    shared = NewInspection(**{**b_new.__dict__,
                              "sides": [new_side("top", "a")] + b_new.sides[1:]})
    b = station.inspections.record(world.operator, shared)
    assert b.sides[0].image_path == a.sides[0].image_path
    station.inspections.delete(world.admin, a.id, "wrong product")
    with pytest.raises(NotFound):
        station.inspections.get(world.admin, a.id)
    assert a.sides[0].image_path.is_file()                   # still used by b
    assert not a.sides[1].image_path.exists() and not a.sides[1].heatmap_path.exists()
    assert not a.thumbnail_path.exists()
    ev = station.audit.list(world.admin, action="inspection.delete")
    assert ev[0].target == f"inspection:{a.id}"


def test_export_csv_honours_filter(station: Station, world: World, tmp_path) -> None:
    made = _fill(station, world)
    station.corrections.correct_can(world.supervisor, made["ids"][3], "pass", "fine")
    out = tmp_path / "export.csv"
    n = station.inspections.export_csv(world.supervisor, GalleryFilter(product_id=made["peas"]),
                                       out)
    rows = list(csv.DictReader(out.open(newline="")))
    assert n == len(rows) == 4
    assert {r["product_sku"] for r in rows} == {"PEAS"}
    fixed = next(r for r in rows if int(r["id"]) == made["ids"][3])
    assert (fixed["machine_verdict"], fixed["corrected_verdict"], fixed["verdict"]) == (
        "reject", "pass", "pass")
    assert fixed["side1_name"] == "top" and fixed["side7_name"] == "side-240"
    assert fixed["side1_label"] == "Anomaly"
    buf = io.StringIO()
    assert station.inspections.export_csv(world.admin, None, buf) == 12
    assert buf.getvalue().count("\n") == 13
    assert station.audit.list(world.admin, action="inspection.export")[0].details["rows"] == 12


def test_labelled_sides_prefer_corrections(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(
        world.product_id, "x", "reject", bad_sides=("top", "bottom")))
    station.corrections.correct_side(world.supervisor, info.sides[0].id, "Good", "glare")
    labels = station.inspections.labelled_sides(world.supervisor)
    assert [(x.side_name, x.label, x.corrected) for x in labels[:2]] == [
        ("top", "Good", True), ("bottom", "Anomaly", False)]
    assert labels[0].image_path == info.sides[0].image_path
    anomalies = station.inspections.labelled_sides(world.admin, label="Anomaly")
    assert [x.side_name for x in anomalies] == ["bottom"]
    assert len(station.inspections.labelled_sides(world.admin, side_name="top")) == 1


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"


@pytest.mark.parametrize("change,field", [
    # Issue 9 item 5: each of these was stored as it came.
    (dict(verdict="pass", sides=[new_side("top", outcome="reject", label="Anomaly"),
                                 new_side("bottom")]), "verdict"),
    (dict(verdict="review", sides=[new_side("top", outcome="reject", label="Anomaly")]),
     "verdict"),
    (dict(sides=[new_side("lid")]), "sides"),
    (dict(sides=[NewSide("top", JPEG + b"x", "png", None, 0.1, "Good", "pass")]), "image"),
    (dict(sides=[NewSide("top", b"GIF89a....", "jpg", None, 0.1, "Good", "pass")]), "image"),
    (dict(sides=[NewSide("top", PNG + b"x", "png", b"not a png", 0.1, "Good", "pass")]),
     "heatmap"),
    (dict(sides=[NewSide("top", PNG + b"x", "png", None, 0.1, "Good", "pass",
                         region=[[1, 2], [3]])]), "region"),
    (dict(sides=[NewSide("top", PNG + b"x", "png", None, 0.1, "Good", "pass",
                         reason="\ud800")]), "reason"),
    (dict(thumbnail_bytes=b"GIF89a...."), "thumbnail"),
    (dict(station_name="line\x00one"), "station_name"),
])
def test_inconsistent_input_is_refused(station: Station, world: World, change: dict,
                                       field: str) -> None:
    base = new_inspection(world.product_id, started=T0)
    bad = NewInspection(**{**base.__dict__, **change})
    before = snapshot(station)
    with pytest.raises(ValidationError) as e:
        station.inspections.record(world.operator, bad)
    assert e.value.field == field
    assert snapshot(station) == before


def test_a_can_may_be_judged_more_severely_than_its_sides(station: Station, world: World) -> None:
    """A missed deadline or a lost camera rejects or reviews a can whose sides passed."""
    base = new_inspection(world.product_id, "strict", started=T0)
    info = station.inspections.record(world.operator, NewInspection(
        **{**base.__dict__, "verdict": "reject"}))
    assert info.verdict == "reject"


def test_reason_and_region_are_kept(station: Station, world: World) -> None:
    outline = [[10, 12], [200, 12], [200, 300], [10, 300]]
    sides = [NewSide("top", JPEG + b"top", "jpeg", PNG + b"h", 0.7, "Anomaly", "review",
                     reason="no can found", region=outline),
             NewSide("bottom", PNG + b"bottom", "PNG", None, 0.1, "Good", "pass")]
    base = new_inspection(world.product_id, started=T0)
    info = station.inspections.record(world.operator, NewInspection(
        **{**base.__dict__, "verdict": "review", "sides": sides}))
    got = station.inspections.get(world.supervisor, info.id)
    assert (got.sides[0].reason, got.sides[0].region) == ("no can found", outline)
    assert (got.sides[1].reason, got.sides[1].region) == ("", None)
    assert got.sides[0].image_path.suffix == ".jpeg"
