"""Corrections (latest wins, shown beside the machine's verdict) and the statistics."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from db import GalleryFilter, NotFound, Station, ValidationError
from tests.db.helpers import SIDES, FakeClock, World, new_inspection

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_can_correction_latest_wins(station: Station, world: World, clock: FakeClock) -> None:
    info = station.inspections.record(world.operator, new_inspection(world.product_id, "c",
                                                                     "reject"))
    station.corrections.correct_can(world.supervisor, info.id, "review", "not sure")
    clock.advance(minutes=5)
    station.corrections.correct_can(world.admin, info.id, "pass", "cosmetic dent")
    got = station.inspections.get(world.operator, info.id)
    assert (got.machine_verdict, got.corrected_verdict, got.verdict) == ("reject", "pass", "pass")
    history = station.corrections.list_for_inspection(world.operator, info.id)
    assert [(c.value, c.username, c.note) for c in history] == [
        ("review", "sue", "not sure"), ("pass", "admin", "cosmetic dent")]
    assert history[1].created_at == clock()
    # The gallery filters on the corrected verdict.
    assert station.inspections.count(world.supervisor, GalleryFilter(verdict="reject")) == 0
    assert station.inspections.count(world.supervisor, GalleryFilter(verdict="pass")) == 1
    ev = station.audit.list(world.admin, action="correction.can")
    assert [(e.username, e.details["old"], e.details["new"]) for e in ev] == [
        ("admin", "review", "pass"), ("sue", "reject", "review")]


def test_side_correction(station: Station, world: World) -> None:
    info = station.inspections.record(world.operator, new_inspection(
        world.product_id, "s", "reject", bad_sides=("top",)))
    top = info.sides[0]
    c = station.corrections.correct_side(world.supervisor, top.id, "Good", "glare")
    assert c.side_result_id == top.id and c.inspection_id == info.id
    side = station.inspections.get(world.supervisor, info.id).sides[0]
    assert (side.label, side.corrected_label, side.final_label) == ("Anomaly", "Good", "Good")
    with pytest.raises(ValidationError):
        station.corrections.correct_side(world.supervisor, top.id, "Bad")
    with pytest.raises(ValidationError):
        station.corrections.correct_can(world.supervisor, info.id, "ok")
    with pytest.raises(NotFound):
        station.corrections.correct_side(world.supervisor, 99999, "Good")


@pytest.fixture
def filled(station: Station, world: World) -> dict:
    """Day 1: otto 3 cans of BEANS (pass, reject, review); day 2: olga 2 cans of PEAS (reject,
    pass) and otto 1 can of BEANS (reject, later corrected to pass)."""
    peas = station.products.create(world.admin, "PEAS", "Peas", world.warehouse_id, 0, SIDES).id
    beans = world.product_id
    plan = [(world.operator, beans, "pass", 0), (world.operator, beans, "reject", 0),
            (world.operator, beans, "review", 0), (world.operator2, peas, "reject", 1),
            (world.operator2, peas, "pass", 1), (world.operator, beans, "reject", 1)]
    ids = []
    for n, (who, product, verdict, day) in enumerate(plan):
        bad = ("top", "side-0") if verdict == "reject" else ("top",) if verdict == "review" else ()
        ids.append(station.inspections.record(who, new_inspection(
            product, str(n), verdict, T0 + timedelta(days=day, minutes=n), bad_sides=bad)).id)
    station.corrections.correct_can(world.supervisor, ids[5], "pass", "fine after all")
    fixed = station.inspections.get(world.supervisor, ids[5])
    for side in fixed.sides[:3]:
        station.corrections.correct_side(world.supervisor, side.id, "Good")
    return {"peas": peas, "beans": beans, "ids": ids}


def test_summary_and_per_day(station: Station, world: World, filled: dict) -> None:
    s = station.stats.summary(world.supervisor)
    assert (s.total, s.passed, s.review, s.rejected) == (6, 3, 1, 2)
    assert s.defect_rate == pytest.approx(2 / 6)
    days = station.stats.per_day(world.supervisor)
    assert [(r.key, r.total, r.review, r.rejected) for r in days] == [
        (date(2026, 3, 2), 3, 1, 1), (date(2026, 3, 3), 3, 0, 1)]
    one_day = GalleryFilter(date_from=date(2026, 3, 3), date_to=date(2026, 3, 3))
    assert station.stats.summary(world.admin, one_day).total == 3


def test_per_product_and_operator(station: Station, world: World, filled: dict) -> None:
    prod = {r.label: (r.total, r.review, r.rejected) for r in
            station.stats.per_product(world.supervisor)}
    assert prod == {"BEANS-400": (4, 1, 1), "PEAS": (2, 0, 1)}
    ops = {r.label: (r.total, r.rejected, round(r.defect_rate, 3)) for r in
           station.stats.per_operator(world.supervisor)}
    assert ops == {"otto": (4, 1, 0.25), "olga": (2, 1, 0.5)}
    only_peas = station.stats.per_operator(world.admin, GalleryFilter(product_id=filled["peas"]))
    assert [(r.label, r.total) for r in only_peas] == [("olga", 2)]


def test_per_side_counts_corrected_labels(station: Station, world: World, filled: dict) -> None:
    sides = {r.key: (r.total, r.review, r.rejected) for r in
             station.stats.per_side(world.supervisor)}
    # top: Anomaly in cans 1, 2, 3 and 5 (machine) but can 5's was corrected to Good.
    assert sides["top"] == (6, 1, 3)
    assert sides["side-0"] == (6, 0, 2)
    assert sides["bottom"] == (6, 0, 0)
    assert set(sides) == set(SIDES)
