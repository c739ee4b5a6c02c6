"""The gallery filter as SQL, shared by the gallery, its count, the export, training labels and
the statistics, so they always agree on which inspections a filter means."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, asc, desc, func, select
from sqlalchemy.orm import Session

from db.errors import ValidationError
from db.permissions import Role, allowed
from db.records import VERDICTS, GalleryFilter
from db.schema import Inspection, Product, User, Warehouse

# sort key -> columns; a trailing id keeps paging stable when values tie.
SORTS = {
    # final_verdict before the id: the indexes hold (…, started, final_verdict, id), so the
    # whole order comes from the index and no sort step is needed, even at a deep offset.
    "started": (Inspection.started, Inspection.final_verdict),
    "verdict": (Inspection.final_verdict, Inspection.started),
    "product": (Product.sku, Inspection.started),
    "warehouse": (Warehouse.name, Inspection.started),
    "operator": (User.username, Inspection.started),
    "station": (Inspection.station_name, Inspection.started),
}


def effective_filter(filters: GalleryFilter | None, user: User) -> GalleryFilter:
    """Operators only ever see their own inspections, whatever the filter asks for."""
    f = filters or GalleryFilter()
    if not allowed(Role(user.role), "inspection.view_all"):
        f = GalleryFilter(f.product_id, f.warehouse_id, f.date_from, f.date_to, f.verdict,
                          operator_id=user.id)
    if f.verdict is not None and f.verdict not in VERDICTS:
        raise ValidationError("verdict", "The verdict must be pass, review or reject.")
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise ValidationError("date_to", "The end date is before the start date.")
    return f


def apply_filter(q: Select, f: GalleryFilter, by_day: bool = False,
                 sqlite: bool = False) -> Select:
    """``by_day``: filter dates on the ``day`` column instead of ``started`` (same meaning), for
    queries that group by day and can then be answered from the ``(day, final_verdict)`` index.
    ``sqlite``: steer SQLite's planner (see below); PostgreSQL's own statistics do better."""
    if f.product_id is not None:
        q = q.where(Inspection.product_id == f.product_id)
    if f.warehouse_id is not None:
        q = q.where(Inspection.warehouse_id == f.warehouse_id)
    if f.operator_id is not None:
        q = q.where(Inspection.operator_id == f.operator_id)
    if f.verdict is not None:
        if not sqlite or (f.product_id is None and f.warehouse_id is None
                          and f.operator_id is None):
            q = q.where(Inspection.final_verdict == f.verdict)
        else:
            # "|| ''" keeps SQLite's planner off the verdict index when a product, warehouse or
            # operator index can be used: a verdict matches about a third to nine tenths of the
            # rows, so it is the worse choice, and SQLite without fresh statistics picks it.
            q = q.where(Inspection.final_verdict.concat("") == f.verdict)
    # Dates become a range of ``started`` (local midnight to local midnight, in UTC as stored),
    # so one index serves the filter and the time order; it matches the ``day`` column.
    if by_day:
        if f.date_from is not None:
            q = q.where(Inspection.day >= f.date_from)
        if f.date_to is not None:
            q = q.where(Inspection.day <= f.date_to)
        return q
    if f.date_from is not None:
        q = q.where(Inspection.started >= day_start_utc(f.date_from))
    if f.date_to is not None:
        q = q.where(Inspection.started < day_start_utc(f.date_to + timedelta(days=1)))
    return q


def day_start_utc(day: date) -> datetime:
    """Local midnight at the start of ``day`` as naive UTC (the stored form)."""
    return datetime.combine(day, time.min).astimezone().astimezone(timezone.utc) \
        .replace(tzinfo=None)


# sort key -> the join a query on inspections alone needs for it
_JOINS = {"product": (Product, Inspection.product_id == Product.id),
          "warehouse": (Warehouse, Inspection.warehouse_id == Warehouse.id),
          "operator": (User, Inspection.operator_id == User.id)}


def apply_sort(q: Select, sort: str, joined: bool = True) -> Select:
    """``sort`` is a key of SORTS, with a leading "-" for descending (default "-started").
    ``joined=False``: ``q`` selects from inspections alone; join what the sort key needs."""
    key = sort.lstrip("-") if isinstance(sort, str) else ""
    if key not in SORTS:
        raise ValidationError("sort", f"Cannot sort by {key!r}.")
    if not joined and key in _JOINS:
        q = q.join(*_JOINS[key])
    direction = desc if sort.startswith("-") else asc
    return q.order_by(*(direction(c) for c in SORTS[key]), direction(Inspection.id))


# sort key -> (the filter field that fixes it, the named table's id and name)
_NAMED = {"product": ("product_id", Product.id, Product.sku),
          "warehouse": ("warehouse_id", Warehouse.id, Warehouse.name),
          "operator": ("operator_id", User.id, User.username)}


def page_ids(s: Session, f: GalleryFilter, sort: str, offset: int, limit: int,
             where: Callable[[Select, GalleryFilter], Select]) -> list[int]:
    """The ids of one gallery page, in the order of :func:`apply_sort`. ``where(q, f)`` applies
    a filter to a query on inspections alone.

    Sorted by a name from another table (product, warehouse, operator), no index can give the
    order (it lies across a join), and sorting every match of a million cans takes hundreds of
    milliseconds. The names are unique, so the order is: names in order, and within one name
    the time order that index (``ix_inspections_<key>``) walks. So the page is read one name at
    a time, each step an index range with the rest of the filter; a name whose matches lie
    wholly before the offset is counted and skipped. Costs grow with the offset, as any
    offset paging does, and with the number of names (one short query each)."""
    key = sort.lstrip("-") if isinstance(sort, str) else ""
    if key not in _NAMED:
        return list(s.scalars(apply_sort(where(select(Inspection.id), f), sort, joined=False)
                              .offset(offset).limit(limit)))
    field, id_col, name_col = _NAMED[key]
    direction = desc if sort.startswith("-") else asc
    fixed = getattr(f, field)
    keys = [fixed] if fixed is not None else \
        list(s.scalars(select(id_col).order_by(direction(name_col), direction(id_col))))
    out: list[int] = []
    skip = offset
    for k in keys:
        one: dict[str, Any] = {field: k}
        q = where(select(Inspection.id), replace(f, **one))
        got = s.scalars(q.order_by(direction(Inspection.started), direction(Inspection.id))
                        .offset(skip).limit(limit - len(out))).all()
        if got:
            out.extend(got)
            skip = 0
        elif skip:
            skip -= int(s.scalar(select(func.count()).select_from(q.subquery())) or 0)
        if len(out) >= limit:
            break
    return out
