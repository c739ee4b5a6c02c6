"""Drawing a p-chart (``app.spc.PChart``) on a matplotlib Axes: the rate of each period, the
centre line, the 3-sigma limits as steps (they follow each period's number of cans), points
outside the limits in red, points of a run-rule pattern ringed in amber.

Threading: matplotlib's object API only (no pyplot): any thread may draw on its own Figure.
"""
from __future__ import annotations

from typing import Any

from matplotlib.ticker import FuncFormatter

from app.palette import NEUTRAL_COLOUR, REJECT_COLOUR, REVIEW_COLOUR
from app.spc import PChart

LINE_COLOUR = "#1f4e79"


def draw_p_chart(ax: Any, chart: PChart, what: str = "reject rate") -> None:
    ax.clear()
    ax.set_title(f"{chart.title}: {what} (p-chart)" if chart.title else what, loc="left",
                 fontsize=11)
    points = chart.points
    if not points:
        ax.text(0.5, 0.5, "no inspections in this period", ha="center", va="center",
                color=NEUTRAL_COLOUR, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    x = list(range(len(points)))
    ucl = [100 * p.ucl for p in points]
    lcl = [100 * p.lcl for p in points]
    ax.step(x, ucl, where="mid", color=REJECT_COLOUR, lw=1, ls="--", label="3σ limits")
    ax.step(x, lcl, where="mid", color=REJECT_COLOUR, lw=1, ls="--")
    ax.axhline(100 * chart.centre, color=NEUTRAL_COLOUR, lw=1.2,
               label=f"centre {chart.centre:.1%}")
    ax.plot(x, [100 * p.p for p in points], marker="o", ms=4, color=LINE_COLOUR, lw=1.2,
            label=what)
    out = [i for i, p in enumerate(points) if p.outside]
    runs = [i for i, p in enumerate(points) if p.rules and not p.outside]
    if out:
        ax.scatter(out, [100 * points[i].p for i in out], s=60, color=REJECT_COLOUR, zorder=5,
                   label="outside the limits")
    if runs:
        ax.scatter(runs, [100 * points[i].p for i in runs], s=110, facecolors="none",
                   edgecolors=REVIEW_COLOUR, linewidths=2, zorder=5, label="run rule")
    # Room for the points and the usual limit; a period of very few cans has limits far above
    # the rest and may run off the top rather than squash the chart. Never above 100 %.
    usual = sorted(ucl)[len(ucl) // 2]
    top = max(usual, max(100 * p.p for p in points))
    ax.set_ylim(0, min(100.0, max(top * 1.25, 1.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g} %"))
    step = max(1, -(-len(points) // 12))            # at most a dozen labels
    ax.set_xticks(x[::step])
    ax.set_xticklabels([points[i].label for i in x[::step]], rotation=30, ha="right",
                       fontsize=8)
    ax.set_xlim(-0.5, len(points) - 0.5)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=3)
