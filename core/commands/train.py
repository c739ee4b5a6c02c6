"""``train DATA_DIR --out MODEL_DIR [--backbone NAME] [--epochs N] ...``: train and save a model."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from core.commands._common import job, set_threads


def register(subparsers: argparse._SubParsersAction) -> None:
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
    p.add_argument("--detector", default=d.detector, help=f"detector kind (default {d.detector})")
    p.add_argument("--backbone", default=d.backbone,
                   help=f"efficientnet_lite0 (default) or vgg16")
    p.add_argument("--weights", help="local ImageNet weights file for the backbone "
                   "(vgg16 without internet; also $STATION_VGG16_WEIGHTS)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--input-size", type=int, default=d.input_size,
                   help="every image is resized to this square size (default: 192 for cam, 224 for patchcore)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--views", type=int, default=d.views, help="augmented views per image")
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--head-warmup", type=int, default=d.head_warmup_epochs,
                   help="epochs that train the head alone before the last blocks join")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--region", choices=("auto", "whole"), default="auto",
                   help="auto (default): train on the can the locator finds in each photo, with the "
                        "outside blanked, as inspection will judge it; whole: the whole photo (the "
                        "recipe before inspection regions)")
    p.add_argument("--no-backdrops", action="store_true",
                   help="with --region auto: do not paste cans onto other backdrops in augmented views")
    p.add_argument("--output-stride", type=int, choices=(32, 16), default=32,
                   help="cam: 16 gives a heatmap twice as fine (about twice the network's time)")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: settings / torch)")
    p.set_defaults(run=run)


@job
def run(args: argparse.Namespace, settings) -> int:
    set_threads(args.threads, settings)
    from tqdm import tqdm

    from core.progress import Progress
    from core.training import TrainConfig, scan_dataset, train_model

    out = Path(args.out).expanduser()
    config = TrainConfig(detector=args.detector, backbone=args.backbone, epochs=args.epochs,
                         batch_size=args.batch_size, input_size=args.input_size, lr=args.lr,
                         views=args.views, patience=args.patience,
                         head_warmup_epochs=args.head_warmup, val_fraction=args.val_fraction,
                         seed=args.seed, backbone_weights=args.weights,
                         # Regions are the CAM classifier's for now; PatchCore sees whole photos.
                         options={"region": args.region, "backdrops": not args.no_backdrops,
                                  "output_stride": args.output_stride} if args.detector == "cam" else {},
                         source=str(Path(args.data_dir).expanduser().resolve()))
    samples = scan_dataset(args.data_dir)
    bar = tqdm(total=1, unit="step", file=sys.stderr, dynamic_ncols=True)

    def show(done: int, total: int, message: str) -> None:
        bar.total = max(total, 1)
        bar.n = done
        bar.set_description(message, refresh=False)
        bar.refresh()

    progress = Progress(show)
    # First Ctrl-C: stop cleanly at the next batch; a second one interrupts at once.
    previous = signal.signal(signal.SIGINT, lambda *_: (progress.cancel(),
                                                         signal.signal(signal.SIGINT, previous)))
    try:
        model = train_model(samples, config, progress, name=args.name or out.name)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    model.save(out, half=args.half)
    m = model.spec.metrics
    print(f"saved {out}: {len(samples)} images, validation AUROC {m.get('val_auroc')}, "
          f"accuracy {m.get('val_accuracy')}, loss {m.get('val_loss')} "
          f"(best epoch {m.get('best_epoch')} of {m.get('epochs_run')})")
    return 0
