"""The statistics' pre-aggregated counts (revision 0006): ``stats_hours`` (cans per product,
warehouse, clock hour and station day, by final verdict) and ``stats_side_hours``
(sides per product, warehouse, clock hour, station day and side name).

Kept exact by the services, in the same transaction as the write that changes what they count:
recording a can (:func:`count_new`), a can's or a side's correction (:func:`recount_verdict`,
:func:`recount_side`) and deleting cans (:func:`uncount`, which locks the sides it reads). Every
change is an ``INSERT .. ON CONFLICT DO UPDATE`` that adds a delta, so two stations counting
into the same hour at once both count (the row lock orders them); keys are written in sorted
order, can rows before side rows, so two writers never wait on each other in a circle. Rows
that fall to zero are removed.

:func:`rebuild` computes both tables from the rows (one ``INSERT .. SELECT .. GROUP BY`` each):
migration 0006 back-fills with it, bulk fills (the benchmark) call it after loading, and the
``stats-rebuild`` command runs it. :func:`differences` compares the tables with the rows.

Hours are whole hours since 1970-01-01 UTC (an integer, the same on both databases).
Threading: the functions run inside the caller's transaction (a Session or Connection).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Table, case, cast, delete, extract, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.schema import Inspection, SideResult, StatsHour, StatsSideHour
from db.watchdog import UNBOUNDED

EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = EPOCH.replace(tzinfo=timezone.utc)
HOURS: Table = StatsHour.__table__            # type: ignore[assignment]
SIDE_HOURS: Table = StatsSideHour.__table__   # type: ignore[assignment]
CAN_KEY = ("product_id", "hour", "day", "warehouse_id")
CAN_COUNTS = ("total", "passed", "review", "reject")
SIDE_KEY = ("product_id", "hour", "side_name", "day", "warehouse_id")
SIDE_COUNTS = ("sides", "review", "anomaly")
_VERDICT_COLUMN = {"pass": 1, "review": 2, "reject": 3}   # index into CAN_COUNTS

Executor = Session | Connection


def hour_of(started: datetime) -> int:
    """The hour bucket of a stored (naive UTC) or aware time."""
    if started.tzinfo is not None:
        started = started.astimezone(timezone.utc).replace(tzinfo=None)
    return (started - EPOCH) // timedelta(hours=1)


@lru_cache(maxsize=1 << 16)     # the control charts turn thousands of rows into times
def hour_start(hour: int) -> datetime:
    """The start of an hour bucket, aware UTC."""
    return _EPOCH_UTC + timedelta(hours=hour)


def hour_sql(column: Any, dialect: str) -> ColumnElement[int]:
    """:func:`hour_of` in SQL, for a stored timestamp column."""
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", column) / 3600), Integer)
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff"; its date functions round to milliseconds
    # (59.9996 s becomes the next hour), so the hour is cut from the text, not computed.
    whole_hour = func.substr(column, 1, 13).op("||")(literal(":00:00"))
    return cast(func.strftime("%s", whole_hour), Integer).op("/")(3600)


def unbounded(ex: Executor) -> Connection:
    """The connection of ``ex`` for the rest of its transaction without the station's limits on
    one statement (PostgreSQL: the server's ``statement_timeout`` and the client's watchdog):
    the whole history is read at once, which may take minutes on a large site."""
    conn = ex.connection() if isinstance(ex, Session) else ex
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn = conn.execution_options(**{UNBOUNDED: True})
    return conn


def _dialect(ex: Executor) -> str:
    return ex.get_bind().dialect.name if isinstance(ex, Session) else ex.dialect.name


# -- keeping the counts ---------------------------------------------------------------------------
def _can_key(i: Inspection) -> tuple:
    return (i.product_id, hour_of(i.started), i.day, i.warehouse_id)


def _side_key(i: Inspection, side_name: str) -> tuple:
    return (i.product_id, hour_of(i.started), side_name, i.day, i.warehouse_id)


def _can_delta(verdict: str, sign: int) -> list[int]:
    out = [sign, 0, 0, 0]
    if verdict in _VERDICT_COLUMN:
        out[_VERDICT_COLUMN[verdict]] = sign
    return out


def _side_delta(outcome: str, final_label: str, sign: int) -> list[int]:
    return [sign, sign if outcome == "review" else 0, sign if final_label == "Anomaly" else 0]


def count_new(s: Session, i: Inspection) -> None:
    """Count a can just added (with its ``sides``), in the recording transaction."""
    sides: defaultdict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for side in i.sides:
        _add(sides[_side_key(i, side.side_name)],
             _side_delta(side.outcome, side.corrected_label or side.label, 1))
    _apply(s, HOURS, CAN_KEY, CAN_COUNTS, {_can_key(i): _can_delta(i.final_verdict, 1)})
    _apply(s, SIDE_HOURS, SIDE_KEY, SIDE_COUNTS, sides)


def recount_verdict(s: Session, i: Inspection, old: str, new: str) -> None:
    """A can's final verdict changes from ``old`` to ``new`` (its row locked by the caller)."""
    if old == new:
        return
    delta = [a + b for a, b in zip(_can_delta(old, -1), _can_delta(new, 1))]
    _apply(s, HOURS, CAN_KEY, CAN_COUNTS, {_can_key(i): delta})


def recount_side(s: Session, side: SideResult, old_label: str, new_label: str) -> None:
    """A side's final label changes (its row locked by the caller)."""
    was, now = old_label == "Anomaly", new_label == "Anomaly"
    if was == now:
        return
    i = s.get(Inspection, side.inspection_id)
    if i is None:
        return
    _apply(s, SIDE_HOURS, SIDE_KEY, SIDE_COUNTS,
           {_side_key(i, side.side_name): [0, 0, int(now) - int(was)]})


def uncount(s: Session, cans: Sequence[Inspection]) -> None:
    """Take these cans (rows locked by the caller, about to be deleted) out of the counts. Their
    sides are read with a lock, so a side correction running at the same time is either
    counted here or refused afterwards (the side is gone), never lost."""
    if not cans:
        return
    by_id = {i.id: i for i in cans}
    can_deltas: defaultdict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    side_deltas: defaultdict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for i in cans:
        _add(can_deltas[_can_key(i)], _can_delta(i.final_verdict, -1))
    rows = s.execute(select(SideResult.inspection_id, SideResult.side_name, SideResult.outcome,
                            SideResult.label, SideResult.corrected_label)
                     .where(SideResult.inspection_id.in_(list(by_id)))
                     .order_by(SideResult.id).with_for_update()).all()
    for iid, name, outcome, label, corrected in rows:
        _add(side_deltas[_side_key(by_id[iid], name)], _side_delta(outcome, corrected or label, -1))
    _apply(s, HOURS, CAN_KEY, CAN_COUNTS, can_deltas)
    _apply(s, SIDE_HOURS, SIDE_KEY, SIDE_COUNTS, side_deltas)


def _add(into: list[int], delta: Iterable[int]) -> None:
    for n, d in enumerate(delta):
        into[n] += d


def _apply(s: Session, table: Table, key: Sequence[str], counts: Sequence[str],
           deltas: dict[tuple, list[int]]) -> None:
    """Add ``deltas`` (key -> counts) to ``table``: one upsert in key order, then drop rows that
    reached zero."""
    items = sorted((k, v) for k, v in deltas.items() if any(v))
    if not items:
        return
    insert = pg_insert if _dialect(s) == "postgresql" else sqlite_insert
    stmt = insert(table).values([{**dict(zip(key, k)), **dict(zip(counts, v))} for k, v in items])
    stmt = stmt.on_conflict_do_update(index_elements=list(key),
                                      set_={c: table.c[c] + stmt.excluded[c] for c in counts})
    s.execute(stmt)
    if any(d < 0 for _, v in items for d in v):
        first = table.c[counts[0]]
        s.execute(delete(table).where(first == 0,
                                      table.c.product_id.in_({k[0] for k, _ in items}),
                                      table.c.hour.in_({k[1] for k, _ in items})))


# -- from the rows --------------------------------------------------------------------------------
def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _can_query(dialect: str) -> Any:
    hour = hour_sql(Inspection.started, dialect)
    keys = (Inspection.product_id, hour, Inspection.day, Inspection.warehouse_id)
    return select(*keys, func.count(), *(_count_if(Inspection.final_verdict == v)
                                        for v in ("pass", "review", "reject"))).group_by(*keys)


def _side_query(dialect: str) -> Any:
    hour = hour_sql(Inspection.started, dialect)
    final = func.coalesce(SideResult.corrected_label, SideResult.label)
    keys = (Inspection.product_id, hour, SideResult.side_name, Inspection.day,
            Inspection.warehouse_id)
    return (select(*keys, func.count(), _count_if(SideResult.outcome == "review"),
                   _count_if(final == "Anomaly"))
            .join(Inspection, SideResult.inspection_id == Inspection.id).group_by(*keys))


def rebuild(ex: Executor) -> tuple[int, int]:
    """Recompute both tables from the rows, in the caller's transaction (on PostgreSQL it locks
    both tables, so recording waits until it commits; SQLite has one writer anyway). Returns
    the rows written (cans, sides)."""
    ex = unbounded(ex)
    dialect = _dialect(ex)
    if dialect == "postgresql":
        # Writers that counted already finish first (their cans are then in the rows read
        # below); writers that come later wait and add their cans after this commits.
        ex.execute(text("LOCK TABLE stats_hours, stats_side_hours IN EXCLUSIVE MODE"))
    ex.execute(delete(HOURS))
    ex.execute(delete(SIDE_HOURS))
    ex.execute(HOURS.insert().from_select([*CAN_KEY, *CAN_COUNTS], _can_query(dialect)))
    ex.execute(SIDE_HOURS.insert().from_select([*SIDE_KEY, *SIDE_COUNTS], _side_query(dialect)))
    cans = ex.execute(select(func.count()).select_from(HOURS)).scalar_one()
    sides = ex.execute(select(func.count()).select_from(SIDE_HOURS)).scalar_one()
    return int(cans), int(sides)


def differences(ex: Executor, limit: int = 20) -> list[str]:
    """Where the tables and the rows disagree (empty: they agree), at most ``limit`` lines."""
    ex = unbounded(ex)
    dialect = _dialect(ex)
    out: list[str] = []
    for name, table, key, counts, query in (
            ("cans", HOURS, CAN_KEY, CAN_COUNTS, _can_query(dialect)),
            ("sides", SIDE_HOURS, SIDE_KEY, SIDE_COUNTS, _side_query(dialect))):
        stored = {tuple(r[:len(key)]): tuple(int(v) for v in r[len(key):])
                  for r in ex.execute(select(*(table.c[c] for c in (*key, *counts))))}
        raw = {tuple(r[:len(key)]): tuple(int(v) for v in r[len(key):])
               for r in ex.execute(query)}
        for k in sorted(stored.keys() | raw.keys(), key=repr):
            if stored.get(k) != raw.get(k):
                when = hour_start(k[1]).strftime("%Y-%m-%d %H:00 UTC")
                out.append(f"{name} product {k[0]}, {when}, {dict(zip(key[2:], k[2:]))}: "
                           f"stored {_named(counts, stored.get(k))}, "
                           f"rows {_named(counts, raw.get(k))}")
                if len(out) >= limit:
                    return out
    return out


def _named(counts: Sequence[str], values: tuple | None) -> str:
    return "none" if values is None else ", ".join(f"{c} {v}" for c, v in zip(counts, values))
