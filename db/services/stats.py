"""Statistics: verdict counts and defect rates per day, product, operator and side.

All are SQL aggregates (GROUP BY) that run the same on SQLite and PostgreSQL: grouping per day uses
the stored ``day`` column instead of a dialect's date function. They honour the gallery filter.
A can is a defect when its final verdict (after corrections) is "reject"; "review" is counted
beside it. For sides, a defect is a side whose final label (after corrections) is "Anomaly".

Rules: supervisors and admins (``stats.view``).
Threading: every method is safe to call from any thread; each is one read transaction.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, func, select
from sqlalchemy.orm import InstrumentedAttribute

from db.dto import RateRow, VerdictCounts
from db.permissions import Actor
from db.records import GalleryFilter
from db.schema import Inspection, Product, SideResult, User
from db.services._base import Service
from db.services.filters import effective_filter


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


_TOTAL = func.count(Inspection.id)
_REVIEW = _count_if(Inspection.final_verdict == "review")
_REJECT = _count_if(Inspection.final_verdict == "reject")


class StatsService(Service):
    def summary(self, actor: Actor, filters: GalleryFilter | None = None) -> VerdictCounts:
        """How many cans passed, went to review, were rejected."""
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            q = self._where(select(_TOTAL, _count_if(Inspection.final_verdict == "pass"),
                                   _REVIEW, _REJECT), f)
            total, passed, review, rejected = s.execute(q).one()
            return VerdictCounts(int(total), int(passed), int(review), int(rejected))

    def per_day(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            q = self._where(select(Inspection.day, _TOTAL, _REVIEW, _REJECT), f, by_day=True)
            q = q.group_by(Inspection.day).order_by(Inspection.day)
            return [RateRow(day, day.isoformat(), t, r, j) for day, t, r, j in s.execute(q)]

    def per_product(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        return self._per_key(actor, filters, Inspection.product_id, select(Product.id, Product.sku))

    def per_operator(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        return self._per_key(actor, filters, Inspection.operator_id, select(User.id, User.username))

    def _per_key(self, actor: Actor, filters: GalleryFilter | None, key: InstrumentedAttribute[Any],
                 names_query: Select) -> list[RateRow]:
        """Rates grouped by one inspection column, labelled through ``names_query`` (id, name)."""
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            q = self._where(select(key, _TOTAL, _REVIEW, _REJECT), f)
            rows = s.execute(q.group_by(key)).all()
            names: dict[Any, str] = {key: name for key, name in s.execute(names_query).all()}
            out = [RateRow(k, names.get(k, str(k)), t, r, j) for k, t, r, j in rows]
            return sorted(out, key=lambda row: row.label)

    def per_side(self, actor: Actor, filters: GalleryFilter | None = None) -> list[RateRow]:
        """Per side name: sides inspected, sides the machine sent to review, sides that are
        Anomaly after corrections (``rejected``)."""
        final = func.coalesce(SideResult.corrected_label, SideResult.label)
        with self._db.read() as s:
            f = effective_filter(filters, self._authorize(s, actor, "stats.view"))
            q = select(SideResult.side_name, func.count(SideResult.id),
                       _count_if(SideResult.outcome == "review"), _count_if(final == "Anomaly"))
            if any(v is not None for v in vars(f).values()):   # the join only when filtering
                q = self._where(q.join(Inspection, SideResult.inspection_id == Inspection.id), f)
            q = q.group_by(SideResult.side_name).order_by(SideResult.side_name)
            return [RateRow(name, name, t, r, j) for name, t, r, j in s.execute(q)]
