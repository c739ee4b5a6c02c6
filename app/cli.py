"""Command-line jobs of the use-case layer, registered into main.py's sub-commands:

    main.py report OUT.pdf [--product SKU] [--warehouse NAME] [--from DAY] [--to DAY]
                           [--verdict pass|review|reject] [--max-inspections N]
    main.py build-from-gallery --name NAME [--product SKU] [--detector KIND] [--backbone NAME]
                           [--input-size N] [detector options such as --epochs N]

Both do what the GUI does (the gallery's PDF report; the Models panel's "Build" from the gallery,
where a supervisor's correction overrides the machine's label) through the same services, so they
sign in first: the user name comes from ``--username`` or ``$STATION_USERNAME``, the password from
the first line of standard input (``--password-stdin``), else ``$STATION_PASSWORD``, else a
prompt. The services check the rights (report: supervisor or admin; build: admin).

Each job is ``run(args, settings) -> exit code``: 0 done, 1 refused or failed (one line on stderr),
2 the station cannot be opened or signed in to. Runs on the main thread.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO, TypeVar

from common.errors import PersonFacingError

if TYPE_CHECKING:
    from core.settings import Settings
    from db import Actor, Station

USERNAME_ENV = "STATION_USERNAME"
PASSWORD_ENV = "STATION_PASSWORD"
VERDICTS = ("pass", "review", "reject")
_N = TypeVar("_N", bound="_Named")


def register(subparsers: argparse._SubParsersAction) -> None:
    from core.commands.train import add_detector_options
    from core.detectors import catalogue

    p = subparsers.add_parser(
        "report", help="write the PDF report of a filtered set of inspections",
        description="The gallery's PDF report: a summary page (counts per verdict, defect rate per "
                    "day) and one page per inspection, newest first. Signs in as a supervisor or "
                    "an admin.")
    p.add_argument("out", help="PDF file to write (replaced atomically)")
    _add_filters(p)
    p.add_argument("--max-inspections", type=int,
                   help="inspections that get a page of their own (default: as the gallery's report)")
    _add_sign_in(p)
    p.set_defaults(run=run_report)

    p = subparsers.add_parser(
        "build-from-gallery", help="train a model on the gallery's labelled sides and register it",
        description="As the Models panel's Build from the gallery: every recorded side is a "
                    "training image, labelled by the supervisors' correction where there is one, "
                    "else by the machine's verdict. The model is saved in the data folder's "
                    "models/ and registered (not activated). Signs in as an admin. Ctrl-C stops "
                    "at the next batch and saves nothing.")
    p.add_argument("--name", required=True, help="the model's name")
    p.add_argument("--product", help="only this product's inspections (SKU or id; default all)")
    p.add_argument("--folder", help="also the images of this folder (good/ and defect/ inside): a "
                                    "data set the product's own labelled sides are added to")
    p.add_argument("--detector", default=catalogue.DEFAULT_KIND, choices=catalogue.kinds())
    p.add_argument("--backbone", default=catalogue.DEFAULT_BACKBONE, choices=catalogue.BACKBONES)
    p.add_argument("--input-size", type=int, help="square input size (default: the detector's)")
    add_detector_options(p)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: settings / torch)")
    _add_sign_in(p)
    p.set_defaults(run=run_build_from_gallery)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--product", help="product SKU or id")
    p.add_argument("--warehouse", help="warehouse name or id")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, help="last day, YYYY-MM-DD")
    p.add_argument("--verdict", choices=VERDICTS, help="final verdict (corrections count)")


def _add_sign_in(p: argparse.ArgumentParser) -> None:
    p.add_argument("--username", help=f"who signs in (default ${USERNAME_ENV})")
    p.add_argument("--password-stdin", action="store_true",
                   help=f"read the password from the first line of standard input "
                        f"(else ${PASSWORD_ENV}, else asked for)")


def _signed_in(args: argparse.Namespace, settings: Settings, stdin: TextIO,
               environ: Mapping[str, str]) -> tuple[Station, Actor]:
    from db import Station

    username = args.username or environ.get(USERNAME_ENV) or input("User name: ").strip()
    if args.password_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = environ.get(PASSWORD_ENV) or getpass.getpass("Password: ")
    station = Station.from_settings(settings)
    try:
        return station, station.auth.sign_in(username, password)
    except BaseException:
        station.close()
        raise


def _job(args: argparse.Namespace, settings: Settings, stdin: TextIO | None,
         body: Callable[[Station, Actor], int]) -> int:
    try:
        station, actor = _signed_in(args, settings, stdin or sys.stdin, os.environ)
    except PersonFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return body(station, actor)
    except PersonFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        station.close()


class _Named(Protocol):
    @property
    def id(self) -> int: ...


def _find(value: str | None, items: Sequence[_N], key: Callable[[_N], str], what: str) -> int | None:
    """The id of the item whose ``key`` (or id) is ``value``; refused with the choices named."""
    if value is None:
        return None
    for item in items:
        if value in (key(item), str(item.id)):
            return int(item.id)
    known = ", ".join(key(i) for i in items) or "none"
    raise _Refused(f"There is no {what} {value!r} (known: {known}).")


class _Refused(PersonFacingError):
    """A command-line value names nothing in the station."""


def run_report(args: argparse.Namespace, settings: Settings, *, stdin: TextIO | None = None) -> int:
    from app.report import build_report
    from core.progress import console_progress
    from db.records import GalleryFilter

    def body(station: Station, actor: Actor) -> int:
        filters = GalleryFilter(
            product_id=_find(args.product, station.products.list(actor), lambda p: p.sku, "product"),
            warehouse_id=_find(args.warehouse, station.warehouses.list(actor), lambda w: w.name,
                               "warehouse"),
            date_from=args.date_from, date_to=args.date_to, verdict=args.verdict)
        limit = {} if args.max_inspections is None else {"max_inspections": args.max_inspections}
        with console_progress() as progress:
            result = build_report(progress, station, actor, filters, Path(args.out).expanduser(),
                                  **limit)
        print(f"wrote {result.path}: {result.total} inspections, {result.with_pages} with a page "
              f"of their own, {result.pages} pages")
        return 0

    return _job(args, settings, stdin, body)


def run_build_from_gallery(args: argparse.Namespace, settings: Settings, *,
                           stdin: TextIO | None = None) -> int:
    from app.model_jobs import BuildRequest, build_and_register
    from core.commands._common import set_threads
    from core.commands.train import detector_options
    from core.progress import console_progress

    def body(station: Station, actor: Actor) -> int:
        product_id = _find(args.product, station.products.list(actor), lambda p: p.sku, "product")
        request = BuildRequest(name=args.name, source="both" if args.folder else "gallery",
                               folder=args.folder or "", product_id=product_id,
                               detector=args.detector, backbone=args.backbone,
                               input_size=args.input_size, options=detector_options(args))
        set_threads(args.threads, settings)
        with console_progress() as progress:
            info = build_and_register(progress, station, actor, settings.models_dir, request)
        print(f"registered model {info.name!r} version {info.version} ({info.kind}) in "
              f"{info.folder}; activate it for products in the Models panel")
        return 0

    return _job(args, settings, stdin, body)
