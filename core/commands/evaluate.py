"""``evaluate DATA_DIR --model MODEL_DIR [--json] [--limit N]``: how well a model does on a labelled folder."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands._common import job, resolve_model, set_threads
from core.sides import SIDES_PER_CAN

if TYPE_CHECKING:
    from core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="measure a model on a folder with good/ and defect/ (and masks/)",
        description="Image AUROC (with its 95 % interval), average precision, the operating points "
                    "of the review and reject thresholds, the share sent to review; at can level "
                    "(7 sides, rejected if any side is) good cans rejected and defective cans passed "
                    "per 1000 with 95 % intervals; how many images the model was trained on; with "
                    "masks/ pixel AUROC, AUPRO and the box hit rate; mean latency per image.")
    parser.add_argument("data_dir", help="folder with good/, defect/ and optionally masks/")
    parser.add_argument("--model", required=True,
                        help="model folder, or the name of a model in the data folder's models/")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--per-image", action="store_true", help="with --json: include every image")
    parser.add_argument("--limit", type=int, help="evaluate a seeded subset of N images "
                        "(keeps the good/defect proportions)")
    parser.add_argument("--batch", type=int, default=SIDES_PER_CAN,
                        help=f"images per forward pass (default {SIDES_PER_CAN}, one can)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: settings / torch)")
    parser.add_argument("--backdrop-check", action="store_true",
                        help="also repaint what lies outside the can on every good image with other "
                             "backdrops (colours, gradient, texture, photos of walls) and count the "
                             "verdicts that change (a model that judges the can changes none)")
    parser.set_defaults(run=run)


@job
def run(args: argparse.Namespace, settings: Settings) -> int:
    data_dir = Path(args.data_dir).expanduser()
    if not (data_dir / "good").is_dir() and not (data_dir / "defect").is_dir():
        print(f"error: {data_dir} has neither good/ nor defect/ folder", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 2:
        print("error: --limit must be at least 2", file=sys.stderr)
        return 2
    set_threads(args.threads, settings)  # imports torch: only when the job runs
    from core.evaluation.evaluate import evaluate_model
    from core.model.io import load_model
    from core.progress import console_progress

    try:
        model = load_model(resolve_model(args.model, settings))
        with console_progress() as progress:
            report = evaluate_model(model, data_dir, progress, batch=args.batch, limit=args.limit)
    except (ValueError, OSError) as exc:  # person-facing StationErrors are handled by @job
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = report.to_dict(per_image=args.per_image)
    check = None
    if args.backdrop_check:
        from core.evaluation.backdrop import backdrop_check
        from core.evaluation.evaluate import limit_samples
        from core.training import scan_dataset

        try:
            with console_progress() as progress:
                check = backdrop_check(model, limit_samples(scan_dataset(data_dir), args.limit), progress)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        out["backdrop_check"] = check.to_dict()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(format_report(out))
        if check is not None:
            print(check.summary())
    return 0


def _fmt(value: object) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _interval(pair: Sequence[float] | None) -> str:
    return "" if not pair else f"  (95 % interval {_fmt(pair[0])} to {_fmt(pair[1])})"


def _seen(n: int | None) -> str:
    return ("the model does not record which images it was trained on" if n is None
            else f"{n} of them used to train or calibrate the model")


def format_can_level(c: dict) -> list[str]:
    """The can-level figures of ``CanLevelReport.to_dict()`` as a table."""
    good, bad = c["side_counts"]["good"], c["side_counts"]["defect"]
    lines = [f"Can level: {c['sides']} sides per can, rejected if any side is; from "
             f"{sum(good.values())} good sides ({good['review']} review, {good['reject']} reject) and "
             f"{sum(bad.values())} defective sides ({bad['pass']} pass, {bad['review']} review)",
             f"  {'per 1000 cans':<62}{'exact':>7}{str(round(100 * c['confidence'])) + ' % interval':>17}"
             f"{'drawn':>7}"]
    for title, key in (("review", "good_cans_flagged"), ("", "defective_cans_passed"),
                       ("reject", "good_cans_rejected"), ("", "defective_cans_not_rejected"),
                       ("", "good_cans_to_review")):
        f = c["figures"][key]
        head = f"  {'at ' + title if title else '':<10}"
        if f is None:
            lines.append(f"{head}{key.replace('_', ' '):<52}{'n/a':>7}")
            continue
        lines.append(f"{head}{f['label']:<52}{f['per_1000']:>7.1f}{f['low']:>8.1f} to {f['high']:<6.1f}"
                     f"{f['sampled_per_1000']:>6.1f}")
    lines.append(f"  How: {c['method']}.")
    lines += [f"  Note: {n}" for n in c["notes"]]
    return lines


def format_report(d: dict) -> str:
    """A table a supervisor can read in a terminal."""
    lines = [f"Model {d['model']} v{d['model_version']} ({d['detector']}) on {d['data']}",
             f"Images: {d['images']} ({d['good']} good, {d['defect']} defect); "
             f"{_seen(d.get('n_overlap_training'))}",
             f"Image AUROC       {_fmt(d['image_auroc'])}{_interval(d.get('image_auroc_interval'))}",
             f"Average precision {_fmt(d['average_precision'])}", "",
             f"{'threshold':<20}{'score':>7}{'prec':>8}{'recall':>8}{'F1':>8}{'bal.acc':>9}"
             f"   confusion [[TN FP] [FN TP]]"]
    t = d["thresholds"]
    for title, key, level in (("review (flag >=)", "at_review", t["review"]),
                              ("decision", "decision", t["decision"]),
                              ("reject", "at_reject", t["reject"])):
        op = d[key]
        lines.append(f"{title:<20}{level:>7.3f}{_fmt(op['precision']):>8}{_fmt(op['recall']):>8}"
                     f"{_fmt(op['f1']):>8}{_fmt(op['balanced_accuracy']):>9}   {op['confusion_matrix']}")
    o = d["outcomes"]
    lines += ["", f"Outcomes: {o['pass']} pass, {o['review']} review, {o['reject']} reject "
                  f"(share sent to review {_fmt(d['review_share'])})"]
    if d["masked_images"] or d["pixel_auroc"] is not None:
        lines += [f"Localisation on {d['masked_images']} masked defect images:",
                  f"  pixel AUROC {_fmt(d['pixel_auroc'])}   AUPRO@0.3 {_fmt(d['aupro'])}   "
                  f"box hit rate {_fmt(d['box_hit_rate'])}   good images with a box "
                  f"{_fmt(d['good_with_boxes'])}"]
    if d.get("can_level"):
        lines += [""] + format_can_level(d["can_level"]) + [""]
    lines.append(f"Mean latency {d['latency_ms_per_image']:.1f} ms per image (batched inference)")
    lines += [f"Note: {n}" for n in d["notes"]]
    return "\n".join(lines)
