"""``train DATA_DIR --out MODEL_DIR [--detector KIND] [--backbone NAME] [--epochs N] ...``: train and
save a model. The detector kinds and their options come from ``core.detectors.catalogue``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands._common import job, set_threads

if TYPE_CHECKING:
    from core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    from core.detectors import catalogue
    from core.training import TrainConfig

    d = TrainConfig()
    p = subparsers.add_parser(
        "train", help="train a model on a folder with good/ and defect/",
        description="Fine-tune a detector on DATA_DIR (good/ = label 0, defect/ = label 1), "
                    "calibrate it on a stratified validation split and save it as a model folder. "
                    "Ctrl-C stops at the next batch.")
    p.add_argument("data_dir", help="folder with good/ and defect/ images")
    p.add_argument("--out", required=True, help="model folder to write (replaced atomically)")
    p.add_argument("--name", help="model name (default: the --out folder's name)")
    p.add_argument("--detector", default=d.detector, choices=catalogue.kinds(),
                   help="; ".join(f"{k.kind}: {k.label}" for k in catalogue.entries())
                   + f" (default {d.detector})")
    p.add_argument("--backbone", default=d.backbone, choices=catalogue.BACKBONES,
                   help=f"default {d.backbone}")
    p.add_argument("--weights", help="local ImageNet weights file for the backbone "
                   "(vgg16 without internet; also $STATION_VGG16_WEIGHTS)")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--input-size", type=int, default=d.input_size,
                   help="every image is resized to this square size (default: the detector's, "
                   + ", ".join(f"{k.input_size} for {k.kind}" for k in catalogue.entries()) + ")")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction)
    p.add_argument("--seed", type=int, default=d.seed)
    add_detector_options(p)
    p.add_argument("--can-false-reject", type=float, metavar="SHARE",
                   help="set the reject threshold for at most this share of good cans rejected "
                        "(e.g. 0.01; a can of 7 sides is rejected if any side is); the model "
                        "records what its validation images can show about it")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: settings / torch)")
    p.set_defaults(run=run)


def add_detector_options(parser: argparse.ArgumentParser) -> None:
    """One flag per detector option in the catalogue (an option several kinds share: one flag)."""
    from core.detectors import catalogue

    group = parser.add_argument_group("detector options (each applies to the kinds named)")
    seen: dict[str, list[str]] = {}
    for entry in catalogue.entries():
        for opt in entry.options:
            seen.setdefault(opt.name, []).append(entry.kind)
    for name, kinds in seen.items():
        opt = catalogue.get(kinds[0]).option(name)
        group.add_argument(opt.flag, dest=f"opt_{name}", metavar="N" if opt.type in (int, float) else "V",
                           nargs="+" if opt.many else None, default=None,
                           help=f"{', '.join(kinds)}: {opt.help} (default {opt.default})")


def detector_options(args: argparse.Namespace) -> dict[str, object]:
    """The detector options given on the command line (the rest keep their defaults)."""
    return {key[4:]: value for key, value in vars(args).items()
            if key.startswith("opt_") and value is not None}


@job
def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.can_false_reject is not None and not 0.0 < args.can_false_reject < 1.0:
        print("error: --can-false-reject is a share of cans between 0 and 1 (e.g. 0.01)",
              file=sys.stderr)
        return 2
    set_threads(args.threads, settings)
    from core.progress import console_progress
    from core.scoring.can_target import can_target_record
    from core.training import TrainConfig, scan_dataset, train_model

    out = Path(args.out).expanduser()
    config = TrainConfig(detector=args.detector, backbone=args.backbone,
                         batch_size=args.batch_size, input_size=args.input_size,
                         val_fraction=args.val_fraction, seed=args.seed, backbone_weights=args.weights,
                         can_false_reject=args.can_false_reject,
                         source=str(Path(args.data_dir).expanduser().resolve())
                         ).with_options(detector_options(args))
    samples = scan_dataset(args.data_dir)
    with console_progress() as progress:
        model = train_model(samples, config, progress, name=args.name or out.name)
    model.save(out, half=args.half)
    m = model.spec.metrics
    figures = [f"{label} {m[key]}" for key, label in (("val_auroc", "validation AUROC"),
                                                      ("val_accuracy", "accuracy"), ("val_loss", "loss"))
               if m.get(key) is not None]
    if m.get("best_epoch") is not None:
        figures.append(f"(best epoch {m['best_epoch']} of {m.get('epochs_run')})")
    if m.get("gate_passes_good") is not None:   # a cascade
        figures.append(f"the gate passes {m['gate_passes_good']:.0%} of the good calibration images "
                       "and no defective one")
    print(f"saved {out}: {len(samples)} images" + (", " + ", ".join(figures) if figures else ""))
    used = model.spec.trained_on.get("masks_used")
    if used is not None:
        print(f"masks: {used} used, for {model.spec.trained_on.get('defective_train')} defective "
              f"training images ({model.spec.trained_on.get('masks_in_validation', 0)} more lie in "
              "the validation split, where they do not train)")
    target = can_target_record(model.spec)
    if target:
        print(f"can-level target: reject from {target['reject']:.3f}. {target['note']}")
    return 0

