"""The statistics from the hourly counts (:mod:`db.rollup`) instead of the inspections.

Each function returns the rows in the shape of the raw GROUP BY it replaces, or None when the
filter cannot be answered from the counts; the caller then runs the raw query. The counts answer
a product, a warehouse, a verdict (cans only), and dates: per day on the
station day as the raw query does, otherwise when the period's ends (local midnights) fall on
whole UTC hours, as they do in every time zone whose offset is whole hours.

Threading: pure functions on the caller's session.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, func, literal, select
from sqlalchemy.orm import Session

from db.records import GalleryFilter
from db.rollup import HOURS, SIDE_HOURS, hour_of
from db.services.filters import day_start_utc


def _hour_bound(moment: datetime) -> int | None:
    """The hour bucket starting exactly at ``moment`` (naive UTC), or None if none does."""
    if moment.minute or moment.second or moment.microsecond:
        return None
    return hour_of(moment)


def _where(q: Select, table: Any, f: GalleryFilter, by_day: bool, sides: bool) -> Select | None:
    if f.operator_id is not None or (sides and f.verdict is not None):
        return None
    if f.product_id is not None:
        q = q.where(table.c.product_id == f.product_id)
    if f.warehouse_id is not None:
        q = q.where(table.c.warehouse_id == f.warehouse_id)
    if by_day:
        if f.date_from is not None:
            q = q.where(table.c.day >= f.date_from)
        if f.date_to is not None:
            q = q.where(table.c.day <= f.date_to)
        return q
    if f.date_from is not None:
        first = _hour_bound(day_start_utc(f.date_from))
        if first is None:
            return None
        q = q.where(table.c.hour >= first)
    if f.date_to is not None:
        end = _hour_bound(day_start_utc(f.date_to + timedelta(days=1)))
        if end is None:
            return None
        q = q.where(table.c.hour < end)
    return q


def _sum(column: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0).cast(Integer)


def _zero() -> ColumnElement[int]:
    return literal(0, Integer)


def can_counts(verdict: str | None) -> tuple[ColumnElement[int], ...]:
    """(total, passed, review, reject) over the rows of ``stats_hours``, for cans whose final
    verdict is ``verdict`` (None: all)."""
    t = HOURS.c
    if verdict is None:
        return _sum(t.total), _sum(t.passed), _sum(t.review), _sum(t.reject)
    column = {"pass": t.passed, "review": t.review, "reject": t.reject}[verdict]
    return (_sum(column), *(_sum(column) if verdict == v else _zero()
                            for v in ("pass", "review", "reject")))


def summary(s: Session, f: GalleryFilter) -> tuple[int, int, int, int] | None:
    q = _where(select(*can_counts(f.verdict)), HOURS, f, by_day=False, sides=False)
    if q is None:
        return None
    total, passed, review, reject = s.execute(q).one()
    return int(total), int(passed), int(review), int(reject)


def grouped(s: Session, f: GalleryFilter, key: str, by_day: bool = False
            ) -> list[tuple[Any, int, int, int]] | None:
    """(key value, total, review, reject) per ``key`` (a column of ``stats_hours``), in key
    order; keys without cans left out, as the raw GROUP BY does."""
    total, _, review, reject = can_counts(f.verdict)
    column = HOURS.c[key]
    q = _where(select(column, total, review, reject), HOURS, f, by_day=by_day, sides=False)
    if q is None:
        return None
    q = q.group_by(column).having(total > 0).order_by(column)
    return [(k, int(t), int(r), int(j)) for k, t, r, j in s.execute(q)]


def per_side(s: Session, f: GalleryFilter) -> list[tuple[str, int, int, int]] | None:
    t = SIDE_HOURS.c
    q = _where(select(t.side_name, _sum(t.sides), _sum(t.review), _sum(t.anomaly)),
               SIDE_HOURS, f, by_day=False, sides=True)
    if q is None:
        return None
    q = q.group_by(t.side_name).having(_sum(t.sides) > 0).order_by(t.side_name)
    return [(name, int(n), int(r), int(j)) for name, n, r, j in s.execute(q)]


def per_hour(s: Session, f: GalleryFilter, sides: bool
             ) -> list[tuple[int, str | None, int, int, int, int]] | None:
    """(product id, side name or None, hour bucket, total, review, rejected)."""
    if sides:
        t = SIDE_HOURS.c
        counts: tuple[ColumnElement[int], ...] = (_sum(t.sides), _sum(t.review), _sum(t.anomaly))
        keys: tuple[Any, ...] = (t.product_id, t.hour, t.side_name)
        q = _where(select(*keys, *counts), SIDE_HOURS, f, by_day=False, sides=True)
    else:
        total, _, review, reject = can_counts(f.verdict)
        counts = (total, review, reject)
        keys = (HOURS.c.product_id, HOURS.c.hour)
        q = _where(select(*keys, *counts), HOURS, f, by_day=False, sides=False)
    if q is None:
        return None
    q = q.group_by(*keys).having(counts[0] > 0)
    return [(r[0], r[2] if sides else None, int(r[1]), int(r[-3]), int(r[-2]), int(r[-1]))
            for r in s.execute(q)]
