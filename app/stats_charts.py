"""Drawing the statistics charts on a matplotlib Figure (no widgets, no pyplot).

Threading: draws on the given Figure; the stats panel calls it on the GUI thread for its canvas.
Pure matplotlib object API, so a script or a worker could draw an offscreen Figure the same way.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol, cast

from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from app.palette import NEUTRAL_COLOUR, VERDICT_COLOURS
from db.dto import RateRow, VerdictCounts

MAX_BARS = 12       # more bars than this do not read on a line screen; the worst are shown


class ChartData(Protocol):
    """What the charts draw: the statistics services' answers for one period."""

    @property
    def summary(self) -> VerdictCounts: ...
    @property
    def per_day(self) -> list[RateRow]: ...
    @property
    def per_product(self) -> list[RateRow]: ...
    @property
    def per_side(self) -> list[RateRow]: ...
    @property
    def per_operator(self) -> list[RateRow]: ...
    @property
    def product_id(self) -> int | None: ...


def draw_charts(fig: Figure, data: ChartData) -> None:
    """Five charts: rate per day (line), verdict counts, rate per product, side and operator.

    Sides are shown for one product only (``data.product_id``): side names belong to a product,
    and the same name on two products is not the same side."""
    fig.clear()
    grid = fig.add_gridspec(2, 3)
    _per_day(fig.add_subplot(grid[0, :2]), data.per_day)
    _counts(fig.add_subplot(grid[0, 2]), data.summary)
    _bars(fig.add_subplot(grid[1, 0]), data.per_product, "Defect rate per product")
    sides = fig.add_subplot(grid[1, 1])
    if data.product_id is None:
        sides.set_title("Anomalies per side", loc="left", fontsize=11)
        _empty(sides, "choose a product to see its sides")
    else:
        _bars(sides, data.per_side, "Anomalies per side")
    _bars(fig.add_subplot(grid[1, 2]), data.per_operator, "Defect rate per operator")


def day_axis(ax: Axes, days: Sequence[date]) -> None:
    """Whole days on the x axis (matplotlib would otherwise tick every 12 hours for a few days)."""
    span = (max(days) - min(days)).days + 1 if days else 1
    ax.xaxis.set_major_locator(DayLocator(interval=max(1, span // 8)))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
    if span == 1:                      # one day: give the single point some room
        ax.set_xlim(float(date2num(min(days) - timedelta(days=1))),
                    float(date2num(max(days) + timedelta(days=1))))
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


def _per_day(ax: Axes, rows: Sequence[RateRow]) -> None:
    ax.set_title("Defect rate per day (% rejected)", loc="left", fontsize=11)
    if not rows:
        _empty(ax)
        return
    days = [cast(date, r.key) for r in rows]        # per-day rows are keyed by day
    x = date2num(days)
    ax.plot(x, [100 * r.defect_rate for r in rows], marker="o", color=VERDICT_COLOURS["reject"],
            label="rejected")
    review = [100 * (r.review / r.total if r.total else 0) for r in rows]
    ax.plot(x, review, marker=".", color=VERDICT_COLOURS["review"], label="review")
    top = max([100 * r.defect_rate for r in rows] + review)
    ax.set_ylim(0, min(100.0, max(top * 1.15, 1.0)))        # a share never reads above 100 %
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    day_axis(ax, days)


def _counts(ax: Axes, summary: VerdictCounts) -> None:
    ax.set_title("Cans per verdict", loc="left", fontsize=11)
    keys = ("pass", "review", "reject")
    values = (summary.passed, summary.review, summary.rejected)
    bars = ax.bar(keys, values, color=[VERDICT_COLOURS[k] for k in keys])
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=9)
    ax.set_ylim(0, max(max(values) * 1.15, 1))              # no negative axis when all are 0
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))    # cans are counted, not measured
    ax.grid(axis="y", alpha=0.3)


def _bars(ax: Axes, rows: Sequence[RateRow], title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11)
    if not rows:
        _empty(ax)
        return
    shown = sorted(rows, key=lambda r: r.defect_rate, reverse=True)[:MAX_BARS][::-1]
    rates = [100 * r.defect_rate for r in shown]
    names = [_short(r.label) for r in shown]
    ax.barh(names, rates, color=VERDICT_COLOURS["reject"])
    # The axis stops at 100 %: labels of long bars go inside them instead of past the end.
    limit = min(100.0, max(max(rates) * 1.45, 1.0))
    ax.set_xlim(0, limit)
    for y, (v, r) in enumerate(zip(rates, shown)):
        text = f"{v:.1f}%  ({r.total:,})"
        if v > 0.62 * limit:
            ax.text(v - 0.01 * limit, y, text, va="center", ha="right", fontsize=8,
                    color="white")
        else:
            ax.text(v + 0.01 * limit, y, text, va="center", ha="left", fontsize=8)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_xlabel("% (of n)", fontsize=8, color=NEUTRAL_COLOUR)


def _short(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _empty(ax: Axes, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color=NEUTRAL_COLOUR,
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
