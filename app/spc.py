"""Statistical process control: p-charts of the reject (or review) rate with 3-sigma limits for
each point's sample size, and the Western Electric run rules.

A p-chart (Montgomery, *Introduction to Statistical Quality Control*, ch. 7) plots the fraction
defective ``p_i = x_i / n_i`` of each period. The centre line is the overall fraction
``p̄ = Σx / Σn``; each point has its own limits ``p̄ ± 3·sqrt(p̄(1 − p̄) / n_i)`` (the lower one
cut at 0), so a quiet night shift of 40 cans gets wider limits than a day of 2 000.

The run rules (Western Electric Statistical Quality Control Handbook, 1956) look for patterns
that chance rarely makes, on each point's standardised distance ``z_i = (p_i − p̄) / σ_i``:

1. one point beyond 3 σ;
2. two of three points in a row beyond 2 σ on the same side;
3. four of five points in a row beyond 1 σ on the same side;
4. eight points in a row on the same side of the centre line.

A point is flagged with a rule when it is one of the points that make the pattern.

The zone rules (2-4) read the chart as if each point were normal around the centre line. For a
share that is far from true when a period holds few cans: with 15 cans a shift and 8 % rejects
(n·p̄ = 1.2), most shifts show 0 or 1 reject, below the centre line, and "eight in a row on one
side" fires by chance every few days. So rules 2-4 are applied only when the typical period
(the median n) has n·p̄ ≥ 5 and n·(1 − p̄) ≥ 5, the usual condition for the normal
approximation of a binomial; otherwise only points outside the limits are flagged, and
``PChart.run_rules`` says so.

Periods are days or shifts of the station's local time; a shift that runs past midnight belongs
to the day it started. The counts come from ``station.stats.per_hour`` (grouped per product
and hour in the database); this module folds the hours into periods.

Threading: pure functions on plain values; any thread.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from db.dto import HourRow


@dataclass(frozen=True)
class Shift:
    name: str
    start: time


DEFAULT_SHIFTS: tuple[Shift, ...] = (Shift("Early", time(6)), Shift("Late", time(14)),
                                     Shift("Night", time(22)))

RULES = {1: "beyond 3 sigma", 2: "2 of 3 beyond 2 sigma", 3: "4 of 5 beyond 1 sigma",
         4: "8 in a row on one side"}


@dataclass(frozen=True)
class ShiftWindow:
    day: date                    # the day the shift started
    shift: Shift
    start: datetime              # aware, local
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.day:%m-%d} {self.shift.name}"


def shift_at(moment: datetime, shifts: Sequence[Shift] = DEFAULT_SHIFTS,
             tz: tzinfo | None = None) -> ShiftWindow:
    """The shift that ``moment`` (aware) falls in, in the local time ``tz`` (default: the
    machine's)."""
    local = moment.astimezone(tz)
    ordered = sorted(shifts, key=lambda s: s.start)
    day, chosen = local.date(), None
    for s in ordered:
        if local.time() >= s.start:
            chosen = s
    if chosen is None:                       # before the first start: the previous day's last
        day, chosen = day - timedelta(days=1), ordered[-1]
    later = [s for s in ordered if s.start > chosen.start]
    end_day, end_time = (day, later[0].start) if later else (day + timedelta(days=1),
                                                             ordered[0].start)
    return ShiftWindow(day, chosen, _local(day, chosen.start, tz), _local(end_day, end_time, tz))


def _local(day: date, at: time, tz: tzinfo | None) -> datetime:
    """``day`` at ``at`` in ``tz``, or in the machine's zone with its daylight-saving rules."""
    return datetime.combine(day, at, tz) if tz is not None else \
        datetime.combine(day, at).astimezone()


@dataclass(frozen=True)
class Sample:
    key: object                  # the period (a date, or (date, shift name)) for ordering
    label: str
    n: int                       # cans (or sides) inspected
    defects: int                 # rejected (or sent to review)


@dataclass(frozen=True)
class ChartPoint:
    key: object
    label: str
    n: int
    defects: int
    p: float
    ucl: float
    lcl: float
    z: float
    rules: tuple[int, ...]       # the run rules this point is part of (1 = outside the limits)

    @property
    def outside(self) -> bool:
        return 1 in self.rules


MIN_EXPECTED = 5.0      # n·p̄ and n·(1 − p̄) of the median period, for the zone rules


@dataclass(frozen=True)
class PChart:
    title: str
    centre: float
    points: tuple[ChartPoint, ...]
    run_rules: bool = True      # False: too few cans per period for rules 2-4 (see the module)

    @property
    def flagged(self) -> tuple[ChartPoint, ...]:
        return tuple(p for p in self.points if p.rules)


def p_chart(samples: Iterable[Sample], title: str = "") -> PChart:
    """The p-chart of ``samples`` in the given order (periods without cans are left out)."""
    kept = [s for s in samples if s.n > 0]
    total = sum(s.n for s in kept)
    centre = sum(s.defects for s in kept) / total if total else 0.0
    zs, limits = [], []
    for s in kept:
        sigma = math.sqrt(centre * (1.0 - centre) / s.n)
        p = s.defects / s.n
        zs.append((p - centre) / sigma if sigma > 0 else 0.0)
        limits.append((min(1.0, centre + 3 * sigma), max(0.0, centre - 3 * sigma)))
    typical = sorted(s.n for s in kept)[len(kept) // 2] if kept else 0
    zones = min(typical * centre, typical * (1 - centre)) >= MIN_EXPECTED
    rules = western_electric(zs) if zones else [{1} if abs(z) > 3 else set() for z in zs]
    points = tuple(ChartPoint(s.key, s.label, s.n, s.defects, s.defects / s.n, ucl, lcl, z,
                              tuple(sorted(r)))
                   for s, (ucl, lcl), z, r in zip(kept, limits, zs, rules))
    return PChart(title, centre, points, zones)


def western_electric(z: Sequence[float]) -> list[set[int]]:
    """For each standardised point, the rules (1-4, see the module) it takes part in."""
    flags: list[set[int]] = [set() for _ in z]
    for i, v in enumerate(z):
        if abs(v) > 3:
            flags[i].add(1)
    for rule, window, need, level in ((2, 3, 2, 2.0), (3, 5, 4, 1.0), (4, 8, 8, 0.0)):
        for end in range(window - 1, len(z)):
            span = range(end - window + 1, end + 1)
            for sign in (1, -1):
                beyond = [i for i in span if sign * z[i] > level]
                if len(beyond) >= need:
                    for i in beyond:
                        flags[i].add(rule)
    return flags


def samples(rows: Iterable[HourRow], period: str = "day", rate: str = "reject",
            shifts: Sequence[Shift] = DEFAULT_SHIFTS, tz: tzinfo | None = None) -> list[Sample]:
    """Fold hourly counts into one sample per day or shift (``period``: "day" | "shift") of the
    reject or review rate (``rate``), oldest first. Periods without cans are absent."""
    if period not in ("day", "shift") or rate not in ("reject", "review"):
        raise ValueError(f"unknown period {period!r} or rate {rate!r}")
    n: dict[tuple[date, int], int] = defaultdict(int)
    x: dict[tuple[date, int], int] = defaultdict(int)
    labels: dict[tuple[date, int], str] = {}
    order = {s.name: i for i, s in enumerate(sorted(shifts, key=lambda s: s.start))}
    for row in rows:
        if period == "day":
            day = row.hour.astimezone(tz).date()
            key = (day, 0)
            labels[key] = day.isoformat()
        else:
            w = shift_at(row.hour, shifts, tz)
            key = (w.day, order[w.shift.name])
            labels[key] = w.label
        n[key] += row.total
        x[key] += row.rejected if rate == "reject" else row.review
    return [Sample(k, labels[k], n[k], x[k]) for k in sorted(n)]


def charts(rows: Iterable[HourRow], period: str = "day", rate: str = "reject",
           shifts: Sequence[Shift] = DEFAULT_SHIFTS, tz: tzinfo | None = None) -> list[PChart]:
    """One chart per product (can rows) or per product and side (side rows), by label."""
    groups: dict[str, list[HourRow]] = defaultdict(list)
    for row in rows:
        title = row.product_label if row.side is None else f"{row.product_label} · {row.side}"
        groups[title].append(row)
    return [p_chart(samples(groups[t], period, rate, shifts, tz), t) for t in sorted(groups)]


def describe(point: ChartPoint) -> str:
    """A line for a person: the point, its rate and why it is flagged."""
    why = "; ".join(RULES[r] for r in point.rules)
    return (f"{point.label}: {point.p:.1%} of {point.n:,} (limits {point.lcl:.1%}–{point.ucl:.1%})"
            + (f" — {why}" if why else ""))
