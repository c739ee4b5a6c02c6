"""The PDF report of a filtered set of inspections (matplotlib ``PdfPages``; no widgets).

Page 1 is the summary: the filters, the pass / review / reject counts, the defect rate per day
and the counts as a bar chart. Then one page per inspection (photos of the seven sides above
their heatmap overlays with boxes), for at most ``max_inspections`` of them, newest first; the
summary says when the set was larger and pages were left out.

Threading: ``build_report`` runs in a worker (``gui.workers.start_task``): it uses matplotlib's
object API with the Agg/PDF canvases only (never pyplot, which is not thread-safe) and checks
``progress`` for cancellation between pages. The file is written through
``common.atomic.replacing`` (a temporary, fsynced and renamed when complete; a full disk is
``StorageFull``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import cv2
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from common.atomic import replacing
from core.images.shrink import shrink
from core.progress import Progress
from core.results import Box
from core.scoring.overlay import BOX_COLOUR, BOX_OUTLINE, render_overlay
from db.dto import InspectionInfo, RateRow, VerdictCounts
from db.records import GalleryFilter

if TYPE_CHECKING:
    from db import Actor, Station
    from db.stores import ImageStore
from app.inspection_detail import read_side
from app.palette import VERDICT_COLOURS, VERDICT_TEXT, VERDICT_TEXT_COLOURS
from app.scores import score_100, where
from app.stats_charts import day_axis

A4_LANDSCAPE = (11.69, 8.27)
MAX_INSPECTIONS = 50
PHOTO_SIDE = 360         # pixels: enough to see a dent on paper, keeps the file modest


@dataclass(frozen=True)
class ReportResult:
    path: Path
    total: int               # inspections matching the filter
    with_pages: int          # inspections that got a page
    pages: int


def describe_filter(f: GalleryFilter, names: dict[str, dict[int, str]]) -> str:
    parts = []
    if f.product_id is not None:
        parts.append(f"product {names['products'].get(f.product_id, f.product_id)}")
    if f.warehouse_id is not None:
        parts.append(f"warehouse {names['warehouses'].get(f.warehouse_id, f.warehouse_id)}")
    if f.date_from or f.date_to:
        parts.append(f"days {f.date_from or '…'} to {f.date_to or '…'}")
    if f.verdict:
        parts.append(f"verdict {f.verdict}")
    if f.operator_id is not None:
        parts.append(f"operator {names['operators'].get(f.operator_id, f.operator_id)}")
    return ", ".join(parts) or "all inspections"


def build_report(progress: Progress, station: Station, actor: Actor, filters: GalleryFilter,
                 path: Path, max_inspections: int = MAX_INSPECTIONS) -> ReportResult:
    path = Path(path)
    summary = station.stats.summary(actor, filters)
    per_day = station.stats.per_day(actor, filters)
    names: dict[str, dict[int, str]] = {"products": {p.id: p.sku for p in station.products.list(actor)},
             "warehouses": {w.id: w.name for w in station.warehouses.list(actor)},
             "operators": {cast(int, r.key): r.label for r in station.stats.per_operator(actor)}}
    rows = station.inspections.page(actor, filters, "-started", 0, max(1, max_inspections)) \
        if max_inspections > 0 else []
    total_steps = len(rows) + 1
    pages = 0
    with replacing(path) as tmp:
        with PdfPages(tmp) as pdf:
            pdf.savefig(_summary_page(summary, per_day, describe_filter(filters, names),
                                      len(rows)))
            pages += 1
            progress.report(1, total_steps, "summary")
            for n, row in enumerate(rows, start=2):
                progress.check()
                info = station.inspections.get(actor, row.id)
                pdf.savefig(inspection_page(info, station.files))
                pages += 1
                progress.report(n, total_steps, f"inspection {row.id}")
            meta = pdf.infodict()
            meta["Title"] = "Can inspection report"
            meta["Subject"] = describe_filter(filters, names)
    return ReportResult(path, summary.total, len(rows), pages)


def _summary_page(summary: VerdictCounts, per_day: list[RateRow], filter_text: str,
                  with_pages: int) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE)
    fig.suptitle("Can inspection report", fontsize=18, fontweight="bold", x=0.06, ha="left")
    left = [f"Filter: {filter_text}",
            f"Made: {datetime.now().astimezone():%Y-%m-%d %H:%M}",
            f"Inspections: {summary.total:,}",
            f"Pass: {summary.passed:,}   Review: {summary.review:,}   Reject: {summary.rejected:,}",
            f"Defect rate (rejected / all): {summary.defect_rate:.1%}"]
    if summary.total > with_pages:
        left.append(f"Pages follow for the newest {with_pages:,} of the {summary.total:,} "
                    "inspections; the others are counted above but have no page.")
    fig.text(0.06, 0.88, "\n".join(left), va="top", fontsize=11, linespacing=1.7)
    ax = fig.add_axes((0.07, 0.1, 0.52, 0.45))
    if per_day:
        days = [cast(date, r.key) for r in per_day]     # per-day rows are keyed by day
        ax.plot(date2num(days), [100 * r.defect_rate for r in per_day], marker="o",
                color=VERDICT_COLOURS["reject"])
        ax.set_ylim(bottom=0)
        day_axis(ax, days)
    ax.set_title("Defect rate per day (%)")
    ax.grid(alpha=0.3)
    bars = fig.add_axes((0.68, 0.1, 0.27, 0.45))
    keys = ("pass", "review", "reject")
    values = (summary.passed, summary.review, summary.rejected)
    drawn = bars.bar(keys, values, color=[VERDICT_COLOURS[k] for k in keys])
    bars.bar_label(drawn, labels=[f"{v:,}" for v in values])
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.margins(y=0.15)
    bars.set_title("Cans per verdict")
    return fig


def _small(rgb: np.ndarray) -> np.ndarray:
    return shrink(rgb, PHOTO_SIDE)[0]


def _overlay(image: np.ndarray, heatmap: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """The heatmap over the photo and the boxes, without the boxes' peak numbers: those are on
    the heatmap's scale, not the side's, and read as a second, disagreeing score."""
    out = render_overlay(image, heatmap, [])
    thick = max(1, round(max(image.shape[:2]) / 320))
    for b in boxes:
        cv2.rectangle(out, (b.x0, b.y0), (b.x1 - 1, b.y1 - 1), BOX_OUTLINE, thick + 2)
        cv2.rectangle(out, (b.x0, b.y0), (b.x1 - 1, b.y1 - 1), BOX_COLOUR, thick)
    return out


def inspection_page(info: InspectionInfo, files: ImageStore | None = None) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE)
    verdict = info.verdict + (f" (machine: {info.machine_verdict})"
                              if info.corrected_verdict else "")
    fig.suptitle(f"Inspection {info.id} — {info.product_sku} {info.product_name} — "
                 f"{verdict.upper()}", fontsize=14, fontweight="bold",
                 color=VERDICT_TEXT_COLOURS.get(info.verdict, "black"), x=0.04, ha="left")
    fig.text(0.04, 0.9, f"{info.started.astimezone():%Y-%m-%d %H:%M:%S} · operator "
             f"{info.operator_name} · station {info.station_name} · model {info.model_name} "
             f"{info.model_version} · each side: the photo, under it the heatmap with the defect "
             "boxes; scores from 0 to 100", fontsize=9)
    # Four sides per band, each band a row of photos over a row of overlays: on a landscape
    # page that keeps every picture about 2.5 inches wide (one row of seven was 1.2 inches).
    per_row = 4
    bands = max(1, -(-len(info.sides) // per_row))
    axes = fig.subplots(2 * bands, per_row, squeeze=False,
                        gridspec_kw={"top": 0.86, "bottom": 0.03, "left": 0.05, "right": 0.97,
                                     "wspace": 0.06, "hspace": 0.28})
    for ax in axes.flat:
        ax.set_axis_off()
    for n, side in enumerate(info.sides):
        band, col = divmod(n, per_row)
        view = read_side(side, files)
        top, bottom = axes[2 * band][col], axes[2 * band + 1][col]
        top.set_title(f"{side.side_name}: {VERDICT_TEXT.get(side.outcome, side.outcome)} · "
                      f"{score_100(side.score)}"
                      + (f" (corrected: {side.corrected_label})" if side.corrected_label else ""),
                      fontsize=9, color=VERDICT_TEXT_COLOURS.get(side.outcome, "black"))
        if view.image is None:
            top.text(0.5, 0.5, "photo missing", ha="center", va="center", fontsize=8)
            continue
        top.imshow(_small(view.image))
        if view.heatmap is not None:
            marks = where(side.outcome, view.boxes, view.heatmap, getattr(side, "region", None),
                          getattr(side, "reason", "") or "")
            bottom.imshow(_small(_overlay(view.image, view.heatmap, marks.boxes)))
        else:
            bottom.text(0.5, 0.5, "no heatmap", ha="center", va="center", fontsize=8)
    return fig
