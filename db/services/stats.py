"""Statistics: verdict counts and defect rates per day, product, operator and side.

All are SQL aggregates (GROUP BY) that run the same on SQLite and PostgreSQL: grouping per day uses
the stored ``day`` column instead of a dialect's date function. They honour the gallery filter.
Whenever the filter allows (see :mod:`db.services.stats_rollup`) they read the hourly counts of
:mod:`db.rollup` instead of the inspections, with the same result; otherwise the rows.
A can is a defect when its final verdict (after corrections) is "reject"; "review" is counted
beside it. For sides, a defect is a side whose final label (after corrections) is "Anomaly".

Rules: supervisors and admins (``stats.view``).
Threading: every method is safe to call from any thread; each is one read transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.database import Database, from_db_time, to_naive_utc
from db.dto import CorrectionRow, HourRow, RateRow, SignInRow, VerdictCounts
from db.permissions import Actor
from db.records import GalleryFilter
from db.rollup import hour_sql, hour_start
from db.schema import AuditEvent, Correction, Inspection, Product, SideResult, User
from db.services import stats_rollup as fast
from db.services._base import Service
from db.services.filters import effective_filter


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


_TOTAL = func.count(Inspection.id)
_REVIEW = _count_if(Inspection.final_verdict == "review")
_REJECT = _count_if(Inspection.final_verdict == "reject")


class StatsService(Service):
    def __init__(self, db: Database, rollup: bool = True) -> None:
        """``rollup=False``: always aggregate the rows (the tests compare both ways)."""
        super().__init__(db)
        self._rollup = rollup

    def summary(self, actor: Actor, filters: GalleryFilter | None = None) -> VerdictCounts:
        """How many cans passed, went to review, were rejected."""
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            if self._rollup and (got := fast.summary(s, f)) is not None:
                return VerdictCounts(*got)
            q = self._where(select(_TOTAL, _count_if(Inspection.final_verdict == "pass"),
                                   _REVIEW, _REJECT), f)
            total, passed, review, rejected = s.execute(q).one()
            return VerdictCounts(int(total), int(passed), int(review), int(rejected))

    def per_day(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            rows = fast.grouped(s, f, "day", by_day=True) if self._rollup else None
            if rows is None:
                q = self._where(select(Inspection.day, _TOTAL, _REVIEW, _REJECT), f, by_day=True)
                rows = list(s.execute(q.group_by(Inspection.day).order_by(Inspection.day)))
            return [RateRow(day, day.isoformat(), t, r, j) for day, t, r, j in rows]

    def per_product(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        return self._per_key(actor, filters, Inspection.product_id, select(Product.id, Product.sku),
                             "product_id")

    def per_operator(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        return self._per_key(actor, filters, Inspection.operator_id, select(User.id, User.username),
                             None)

    def _per_key(self, actor: Actor, filters: GalleryFilter | None, key: InstrumentedAttribute[Any],
                 names_query: Select, counted_key: str | None) -> list[RateRow]:
        """Rates grouped by one inspection column (``counted_key`` in the hourly counts; None:
        not kept there), labelled through ``names_query`` (id, name)."""
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            rows = fast.grouped(s, f, counted_key) if self._rollup and counted_key else None
            if rows is None:
                q = self._where(select(key, _TOTAL, _REVIEW, _REJECT), f)
                rows = list(s.execute(q.group_by(key)))
            names: dict[Any, str] = {key: name for key, name in s.execute(names_query).all()}
            out = [RateRow(k, names.get(k, str(k)), t, r, j) for k, t, r, j in rows]
            return sorted(out, key=lambda row: row.label)

    def per_side(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        """Per side name: sides inspected, sides the machine sent to review, sides that are
        Anomaly after corrections (``rejected``)."""
        final = func.coalesce(SideResult.corrected_label, SideResult.label)
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            rows = fast.per_side(s, f) if self._rollup else None
            if rows is None:
                q = select(SideResult.side_name, func.count(SideResult.id),
                           _count_if(SideResult.outcome == "review"), _count_if(final == "Anomaly"))
                if any(v is not None for v in vars(f).values()):   # the join only when filtering
                    q = self._where(q.join(Inspection, SideResult.inspection_id == Inspection.id), f)
                rows = list(s.execute(q.group_by(SideResult.side_name).order_by(SideResult.side_name)))
            return [RateRow(name, name, t, r, j) for name, t, r, j in rows]

    # -- for control charts and the shift report ---------------------------------------------
    def per_hour(self, actor: Actor, filters: GalleryFilter | None = None,
                 sides: bool = False) -> list[HourRow]:
        """Counts per product and clock hour (UTC) of ``started``; with ``sides``, per product,
        hour and side name. Grouped in the database; the caller folds hours into days or shifts
        of its own time zone."""
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            names = dict(s.execute(select(Product.id, Product.sku)).all())
            got = fast.per_hour(s, f, sides) if self._rollup else None
            if got is not None:
                out = [HourRow(pid, names.get(pid, str(pid)), hour_start(h), t, r, j, side)
                       for pid, side, h, t, r, j in got]
            else:
                out = [HourRow(pid, names.get(pid, str(pid)), hour, int(t), int(r), int(j), side)
                       for pid, side, hour, t, r, j in self._per_hour_rows(s, f, sides)]
            return sorted(out, key=lambda row: (row.hour, row.product_label, row.side or ""))

    def _per_hour_rows(self, s: Session, f: GalleryFilter, sides: bool
                       ) -> list[tuple[Any, str | None, datetime, int, int, int]]:
        """per_hour from the rows: (product id, side or None, hour, total, review, rejected)."""
        hour = hour_sql(Inspection.started, s.get_bind().dialect.name)
        q: Select[Any]        # the two shapes differ; the rows are read by position below
        if sides:
            final = func.coalesce(SideResult.corrected_label, SideResult.label)
            q = select(Inspection.product_id, SideResult.side_name, hour,  # type: ignore[assignment]
                       func.count(SideResult.id), _count_if(SideResult.outcome == "review"),
                       _count_if(final == "Anomaly"))
            q = self._where(q.join(Inspection, SideResult.inspection_id == Inspection.id), f)
            q = q.group_by(Inspection.product_id, SideResult.side_name, hour)
        else:
            q = self._where(select(Inspection.product_id, hour, _TOTAL, _REVIEW, _REJECT), f)
            q = q.group_by(Inspection.product_id, hour)
        found: list[tuple[Any, ...]] = [tuple(r) if sides else (r[0], None, *r[1:])
                                        for r in s.execute(q)]
        return [(pid, side, hour_start(int(h)), t, r, j) for pid, side, h, t, r, j in found]

    def corrections(self, actor: Actor, since: datetime, until: datetime) -> list[CorrectionRow]:
        """Corrections made in [since, until), oldest first."""
        with self._db.read() as s:
            self._authorize(s, actor, "stats.view")
            q = (select(Correction, User.username, Product.sku, Inspection.verdict,
                        SideResult.side_name, SideResult.label)
                 .join(User, Correction.user_id == User.id)
                 .join(Inspection, Correction.inspection_id == Inspection.id)
                 .join(Product, Inspection.product_id == Product.id)
                 .outerjoin(SideResult, Correction.side_result_id == SideResult.id)
                 .where(Correction.created_at >= to_naive_utc(since),
                        Correction.created_at < to_naive_utc(until))
                 .order_by(Correction.created_at, Correction.id))
            return [CorrectionRow(c.inspection_id, sku, side, label if side else verdict,
                                  c.value, c.note, name, from_db_time(c.created_at))
                    for c, name, sku, verdict, side, label in s.execute(q)]

    def sign_ins(self, actor: Actor, since: datetime, until: datetime) -> list[SignInRow]:
        """Who signed in during [since, until): first and last time, how often (from the audit
        log's sign-in events: names and times only, no other audit detail)."""
        with self._db.read() as s:
            self._authorize(s, actor, "stats.view")
            q = (select(AuditEvent.username, func.min(AuditEvent.at), func.max(AuditEvent.at),
                        func.count(AuditEvent.id), AuditEvent.user_id)
                 .where(AuditEvent.action == "auth.sign_in",
                        AuditEvent.at >= to_naive_utc(since), AuditEvent.at < to_naive_utc(until))
                 .group_by(AuditEvent.username, AuditEvent.user_id)
                 .order_by(func.min(AuditEvent.at)))
            rows = s.execute(q).all()
            roles = dict(s.execute(select(User.id, User.role)).all())
            return [SignInRow(name, roles.get(uid, "") if uid is not None else "",
                              from_db_time(first), from_db_time(last), int(n))
                    for name, first, last, n, uid in rows]
