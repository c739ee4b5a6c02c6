"""The services issue 11 needs: deleting inspections with a reason (one, a filtered set, the
confirmation's counts), the audit log's filters, paging and CSV export, hourly counts for control
charts, a period's corrections and sign-ins, and what Inspect asks in one call."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from db import InvalidCredentials, NewInspection, NotFound, Station, ValidationError
from db.records import GalleryFilter
from db.services.audit import AuditFilter
from tests.db.helpers import FakeClock, World, new_inspection, new_side


def _day(n: int) -> datetime:
    return datetime(2026, 3, 2 + n, 9, 0, tzinfo=timezone.utc)


def test_preview_counts_cans_and_only_files_no_other_can_uses(station: Station,
                                                              world: World) -> None:
    a = station.inspections.record(world.operator, new_inspection(world.product_id, "a",
                                                                  thumbnail=True))
    # b shares a's "top" photo and heatmap (same bytes, one file each); nothing else
    b_new = new_inspection(world.product_id, "b", started=_day(1))
    b = station.inspections.record(world.operator, NewInspection(
        **{**b_new.__dict__, "sides": [new_side("top", "a")] + b_new.sides[1:]}))
    one = station.inspections.deletion_preview(world.admin, ids=[a.id])
    # 7 photos + 7 heatmaps + 1 thumbnail, minus the photo and heatmap b still uses
    assert (one.ids, one.cans, one.files) == ((a.id,), 1, 13)
    both = station.inspections.deletion_preview(world.admin, GalleryFilter())
    assert (both.ids, both.cans, both.files) == ((a.id, b.id), 2, 15 + 12)
    later = station.inspections.deletion_preview(world.admin,
                                                 GalleryFilter(date_from=_day(1).date()))
    assert later.ids == (b.id,) and later.files == 12    # the shared two stay for a
    gone = station.inspections.deletion_preview(world.admin, ids=[a.id, 99999])
    assert gone.ids == (a.id,)


def test_delete_many_removes_exactly_the_confirmed_set_with_its_reason(
        station: Station, world: World) -> None:
    ids = [station.inspections.record(world.operator, new_inspection(
        world.product_id, f"c{n}", "reject" if n % 2 else "pass", started=_day(n),
        bad_sides=("top",) if n % 2 else ())).id for n in range(5)]
    preview = station.inspections.deletion_preview(world.admin, GalleryFilter(verdict="reject"))
    assert preview.ids == (ids[1], ids[3])
    # a can recorded after the confirmation matches the filter but was not confirmed
    late = station.inspections.record(world.operator, new_inspection(
        world.product_id, "late", "reject", started=_day(9), bad_sides=("top",))).id
    seen: list[tuple[int, int]] = []
    result = station.inspections.delete_many(world.admin, preview.ids, "test run of line 2",
                                             progress=lambda d, t: seen.append((d, t)))
    assert (result.cans, result.files) == (2, preview.files)
    assert seen[-1] == (2, 2)
    left = {r.id for r in station.inspections.page(world.admin, None, limit=100)}
    assert left == {ids[0], ids[2], ids[4], late}
    events = station.audit.list(world.admin, action="inspection.delete")
    assert sorted(e.target for e in events) == [f"inspection:{ids[1]}", f"inspection:{ids[3]}"]
    assert {e.details["reason"] for e in events} == {"test run of line 2"}
    assert {e.details["verdict"] for e in events} == {"reject"}


def test_delete_needs_a_reason_and_an_existing_can(station: Station, world: World) -> None:
    i = station.inspections.record(world.operator, new_inspection(world.product_id)).id
    with pytest.raises(ValidationError) as err:
        station.inspections.delete(world.admin, i, "   ")
    assert err.value.field == "reason"
    station.inspections.get(world.admin, i)          # still there
    with pytest.raises(NotFound):
        station.inspections.delete(world.admin, 99999, "gone")
    station.inspections.delete(world.admin, i, "photographed the wrong can")
    with pytest.raises(NotFound):
        station.inspections.get(world.admin, i)


def test_large_set_is_deleted_in_batches(station: Station, world: World) -> None:
    from db.services import inspection_delete as module
    ids = [station.inspections.record(world.operator, new_inspection(
        world.product_id, f"n{n}", started=_day(0) + timedelta(minutes=n))).id for n in range(7)]
    old = module.DELETE_BATCH
    module.DELETE_BATCH = 3
    try:
        seen: list[tuple[int, int]] = []
        result = station.inspections.delete_many(world.admin, ids, "batch",
                                                 progress=lambda d, t: seen.append((d, t)))
    finally:
        module.DELETE_BATCH = old
    assert result.cans == 7 and seen == [(3, 7), (6, 7), (7, 7)]
    assert station.inspections.count(world.admin) == 0


def _log(station: Station, world: World, clock: FakeClock) -> datetime:
    start = clock()
    for n in range(30):
        clock.advance(minutes=1)
        station.warehouses.create(world.admin, f"W{n}", 10)
    clock.advance(minutes=1)
    with pytest.raises(InvalidCredentials):
        station.auth.sign_in("=cmd|' /C calc'!A0", "nope")
    return start


def test_filters_who_what_when_and_pages(station: Station, world: World,
                                         clock: FakeClock) -> None:
    start = _log(station, world, clock)
    a = world.admin
    f = AuditFilter(action="warehouse.", username="admin")
    assert station.audit.count(a, f) == 31             # the world's warehouse and 30 more
    pages = [station.audit.list(a, f, offset=o, limit=10) for o in (0, 10, 20, 30)]
    assert [len(p) for p in pages] == [10, 10, 10, 1]
    flat = [e.id for p in pages for e in p]
    assert len(set(flat)) == 31 and flat == sorted(flat, reverse=True)   # newest first
    window = AuditFilter(since=start + timedelta(minutes=5), until=start + timedelta(minutes=8))
    # W<n> was created at start + n + 1 minutes; "until" is exclusive
    assert [e.details["name"] for e in reversed(station.audit.list(a, window))] == [
        "W4", "W5", "W6"]
    assert station.audit.count(a, window) == 3
    names, actions = station.audit.choices(a)
    assert "=cmd|' /C calc'!A0" in names and "admin" in names
    assert {"warehouse.create", "auth.sign_in_failed"} <= set(actions)
    with pytest.raises(ValidationError):
        station.audit.list(a, AuditFilter(since=start, until=start - timedelta(days=1)))


def test_csv_export_follows_the_filter_and_defuses_formulas(station: Station, world: World,
                                                            clock: FakeClock,
                                                            tmp_path: Path) -> None:
    _log(station, world, clock)
    out = tmp_path / "audit.csv"
    n = station.audit.export_csv(world.admin, out, AuditFilter(action="auth.sign_in_failed"))
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert n == len(rows) == 1
    assert rows[0]["username"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["action"] == "auth.sign_in_failed"
    assert '"reason": "unknown user"' in rows[0]["details"]
    buf = io.StringIO()
    total = station.audit.export_csv(world.admin, buf)
    lines = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert total == len(lines) > 30
    ats = [r["at_utc"] for r in lines]
    assert ats == sorted(ats)                                   # oldest first
    assert station.audit.list(world.admin, action="audit.export")[0].details["rows"] == total


def test_hourly_counts_corrections_and_sign_ins_for_the_shift_report(
        station: Station, world: World, clock: FakeClock) -> None:
    t0 = datetime(2026, 3, 2, 6, 10, tzinfo=timezone.utc)
    made = []
    for n, verdict in enumerate(("pass", "reject", "review", "reject", "pass")):
        made.append(station.inspections.record(world.operator, new_inspection(
            world.product_id, f"h{n}", verdict, started=t0 + timedelta(minutes=25 * n),
            bad_sides=("top",) if verdict != "pass" else ())))
    rows = station.stats.per_hour(world.supervisor)
    # started 06:10, 06:35 | 07:00, 07:25, 07:50
    assert [(r.hour.hour, r.total, r.review, r.rejected) for r in rows] == [
        (6, 2, 0, 1), (7, 3, 1, 1)]
    assert rows[0].product_label == "BEANS-400" and rows[0].hour.tzinfo is not None
    tops = [r for r in station.stats.per_hour(world.supervisor, sides=True) if r.side == "top"]
    assert [(r.hour.hour, r.total, r.review, r.rejected) for r in tops] == [
        (6, 2, 0, 1), (7, 3, 1, 2)]
    clock.t = t0 + timedelta(hours=3)
    station.corrections.correct_can(world.supervisor, made[1].id, "pass", "dust")
    side = made[2].sides[0]
    station.corrections.correct_side(world.supervisor, side.id, "Good")
    station.auth.sign_in("otto", "correct horse")
    clock.advance(hours=1)
    station.auth.sign_in("otto", "correct horse")
    fixes = station.stats.corrections(world.supervisor, t0, t0 + timedelta(hours=8))
    assert [(c.inspection_id, c.side_name, c.machine_value, c.value, c.username)
            for c in fixes] == [(made[1].id, None, "reject", "pass", "sue"),
                                (made[2].id, "top", "Anomaly", "Good", "sue")]
    assert station.stats.corrections(world.supervisor, t0, t0 + timedelta(hours=2)) == []
    who = station.stats.sign_ins(world.supervisor, t0, t0 + timedelta(hours=8))
    assert [(w.username, w.role, w.times) for w in who] == [("otto", "operator", 2)]
    assert who[0].last - who[0].first == timedelta(hours=1)


def test_for_inspection_reads_product_and_model_together(station: Station, world: World) -> None:
    product, model = station.models.for_inspection(world.operator, world.product_id)
    assert product.id == world.product_id and model is None
    m = station.models.register(world.admin, "m", "models/m", "cam", "lite0", "1", {},
                                {"review": 0.4, "reject": 0.6}, {})
    station.models.activate_for_product(world.admin, m.id, world.product_id)
    station.products.update(world.admin, world.product_id,
                            thresholds={"review": 0.3, "reject": 0.7})
    product, model = station.models.for_inspection(world.operator, world.product_id)
    assert model.id == m.id and model.thresholds == {"review": 0.4, "reject": 0.6}
    assert product.thresholds == {"review": 0.3, "reject": 0.7}
    with pytest.raises(NotFound):
        station.models.for_inspection(world.operator, 99999)
