"""The shift report: one PDF at the end of a shift, for the supervisor's file.

Page 1: the shift (station, day, hours), the counts and rates per product, who was signed in
and who inspected, the corrections made during the shift. Page 2: the control chart of each
product's reject rate per shift over the last ``HISTORY_DAYS`` days, this shift last, with the
points the run rules flag. Then one page per rejected can of the shift (photos over heatmaps
with the defect boxes), at most ``MAX_CANS``.

Threading: ``build_shift_report`` runs in a worker: matplotlib's object API and the PDF canvas
only (never pyplot); it checks ``progress`` between pages and writes through
``common.atomic.replacing`` (complete or not at all; a full disk is ``StorageFull``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from app.report import A4_LANDSCAPE, inspection_page
from app.spc import DEFAULT_SHIFTS, PChart, Shift, ShiftWindow, charts, describe
from app.spc_chart import draw_p_chart
from common.atomic import replacing
from db.records import GalleryFilter

HISTORY_DAYS = 30
MAX_CANS = 50
PAGE = 1000


@dataclass(frozen=True)
class ShiftReport:
    path: Path
    cans: int
    rejected: int
    pages: int


def shift_rows(station: Any, actor: Any, window: ShiftWindow) -> list:
    """The inspections that started in the shift, oldest first."""
    f = GalleryFilter(date_from=window.start.date(), date_to=window.end.date())
    rows, offset = [], 0
    while True:
        page = station.inspections.page(actor, f, "started", offset, PAGE)
        rows += [r for r in page if window.start <= r.started < window.end]
        if len(page) < PAGE:
            return rows
        offset += PAGE


def build_shift_report(progress: Any, station: Any, actor: Any, window: ShiftWindow,
                       path: Path, station_name: str = "",
                       shifts: Sequence[Shift] = DEFAULT_SHIFTS) -> ShiftReport:
    path = Path(path)
    rows = shift_rows(station, actor, window)
    rejected = [r for r in rows if r.verdict == "reject"]
    shown = rejected[-MAX_CANS:]
    progress.report(0, len(shown) + 2, "counting")
    history = station.stats.per_hour(actor, GalleryFilter(
        date_from=window.day - timedelta(days=HISTORY_DAYS), date_to=window.end.date()))
    products = {r.product_sku for r in rows}
    chart_list = [c for c in charts([h for h in history if h.hour < window.end], "shift",
                                    "reject", shifts, window.start.tzinfo)
                  if c.title in products]
    fixes = station.stats.corrections(actor, window.start, window.end)
    people = station.stats.sign_ins(actor, window.start, window.end)
    pages = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp, PdfPages(tmp) as pdf:
        pdf.savefig(_summary_page(window, station_name, rows, fixes, people, len(rejected),
                                  len(shown), actor))
        pages += 1
        progress.report(1, len(shown) + 2, "summary")
        pdf.savefig(_charts_page(window, chart_list))
        pages += 1
        for n, row in enumerate(shown, start=3):
            progress.check()
            pdf.savefig(inspection_page(station.inspections.get(actor, row.id), station.files))
            pages += 1
            progress.report(n - 1, len(shown) + 2, f"inspection {row.id}")
        meta = pdf.infodict()
        meta["Title"] = f"Shift report {window.label}"
        meta["Subject"] = f"{station_name} {window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M}"
    return ShiftReport(path, len(rows), len(rejected), pages)


def _summary_page(window: ShiftWindow, station_name: str, rows: list, fixes: list,
                  people: list, rejected: int, shown: int, actor: Any) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE)
    where = f" — station {station_name}" if station_name else ""
    fig.suptitle(f"Shift report: {window.shift.name} shift {window.day:%Y-%m-%d}{where}",
                 fontsize=17, fontweight="bold", x=0.05, ha="left")
    verdicts = Counter(r.verdict for r in rows)
    total = len(rows)

    def share(n: int) -> str:
        return f"{n / total:.1%}" if total else "–"
    head = [f"Shift: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M}",
            f"Made: {datetime.now().astimezone():%Y-%m-%d %H:%M} by {actor.username}",
            f"Cans inspected: {total:,}    Pass: {verdicts['pass']:,}    "
            f"Review: {verdicts['review']:,} ({share(verdicts['review'])})    "
            f"Reject: {verdicts['reject']:,} ({share(verdicts['reject'])})"]
    if rejected > shown:
        head.append(f"Pages follow for the last {shown} of the {rejected} rejected cans.")
    elif rejected:
        head.append(f"A page follows for each of the {rejected} rejected cans.")
    fig.text(0.05, 0.90, "\n".join(head), va="top", fontsize=10.5, linespacing=1.6)
    by_product: dict[str, Counter] = {}
    for r in rows:
        by_product.setdefault(f"{r.product_sku} {r.product_name}", Counter())[r.verdict] += 1
    product_lines = [f"{name[:34]:<34} {sum(c.values()):>6,} {c['reject']:>6,} "
                     f"{c['reject'] / sum(c.values()):>7.1%} {c['review'] / sum(c.values()):>7.1%}"
                     for name, c in sorted(by_product.items())] or ["no cans in this shift"]
    _block(fig, 0.05, 0.70, "Per product",
           [f"{'product':<34} {'cans':>6} {'reject':>6} {'rej. %':>7} {'rev. %':>7}"]
           + product_lines[:12])
    operators = Counter(r.operator_name for r in rows)
    signed = [f"{p.username:<16} {p.role:<10} {p.first.astimezone():%H:%M}–"
              f"{p.last.astimezone():%H:%M} ({p.times}×)" for p in people]
    _block(fig, 0.55, 0.70, "Signed in during the shift",
           (signed or ["nobody signed in during the shift"])[:8]
           + ["", "Cans inspected per operator:"]
           + [f"  {name:<16} {n:>6,}" for name, n in operators.most_common(6)])
    fix_lines = [f"{c.created_at.astimezone():%H:%M} {c.username:<12} #{c.inspection_id:<6} "
                 f"{(c.side_name or 'whole can')[:12]:<12} {c.machine_value} → {c.value}"
                 + (f"  “{c.note[:40]}”" if c.note else "") for c in fixes]
    _block(fig, 0.05, 0.36, f"Corrections made during the shift ({len(fixes)})",
           (fix_lines or ["none"])[:12] + (["…"] if len(fix_lines) > 12 else []))
    return fig


def _block(fig: Figure, x: float, y: float, title: str, lines: list[str]) -> None:
    fig.text(x, y, title, fontsize=12, fontweight="bold", va="top")
    fig.text(x, y - 0.035, "\n".join(lines), fontsize=8.5, va="top", family="monospace",
             linespacing=1.5)


def _charts_page(window: ShiftWindow, chart_list: list[PChart]) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE)
    fig.suptitle(f"Control charts: reject rate per shift, last {HISTORY_DAYS} days up to "
                 f"{window.label}", fontsize=14, fontweight="bold", x=0.05, ha="left")
    shown = chart_list[:4]
    if not shown:
        fig.text(0.5, 0.5, "No cans in this shift: no control chart.", ha="center")
        return fig
    rows = len(shown)
    grid = fig.add_gridspec(rows, 2, width_ratios=(2.2, 1), left=0.06, right=0.97,
                            top=0.88, bottom=0.08, hspace=0.75, wspace=0.08)
    for n, chart in enumerate(shown):
        draw_p_chart(fig.add_subplot(grid[n, 0]), chart)
        note = fig.add_subplot(grid[n, 1])
        note.set_axis_off()
        flagged = [describe(p) for p in chart.flagged][-6:]
        text = ("Signals:\n" + "\n".join(flagged)) if flagged else "No signal: in control."
        note.text(0, 1, text, va="top", fontsize=7.5, wrap=True)
    if len(chart_list) > 4:
        fig.text(0.05, 0.02, f"{len(chart_list) - 4} more products: see Statistics → "
                 "Control charts.", fontsize=9)
    return fig
