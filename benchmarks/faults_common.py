"""What the fault attacks of benchmarks/bench_faults.py share: the counters of one attack, a call
with a time limit, and the check that every committed row still has its files.

An attack returns one or more :class:`Tally`: tried, clean (succeeded, or failed with the station
error meant for it), wrong (another exception type, or success where a refusal was due), hangs,
crashes (a process or a start-up that died), lost (rows or files gone, records duplicated).
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from db import Station  # noqa: E402
from db.database import Timeouts  # noqa: E402
from db.passwords import PasswordHasher  # noqa: E402
from db.records import NewInspection  # noqa: E402
from tests.db.helpers import new_inspection  # noqa: E402

HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse"
QUICK = Timeouts(connect=2, statement=5, lock=3, idle_transaction=30, answer=3)
CALL_LIMIT_S = 20.0          # a call that takes longer is a hang


@dataclass
class Tally:
    name: str
    tried: int = 0
    clean: int = 0
    wrong: int = 0
    hangs: int = 0
    crashes: int = 0
    lost: int = 0
    slowest_s: float = 0.0       # the longest single call that was timed (refusals included)
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return self.wrong + self.hangs + self.crashes + self.lost

    def note(self, text: str) -> None:
        if len(self.notes) < 3:
            self.notes.append(text)


def bounded(call: Callable[[], object], limit_s: float = CALL_LIMIT_S
            ) -> tuple[str, object]:
    """Run ``call`` in a thread: ("ok", result), ("error", exception) or ("hang", None)."""
    box: dict = {}

    def run() -> None:
        try:
            box["ok"] = call()
        except BaseException as exc:  # noqa: BLE001 - classified by the caller
            box["error"] = exc
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit_s)
    if t.is_alive():
        return "hang", None
    return ("ok", box["ok"]) if "ok" in box else ("error", box["error"])


def expect(tally: Tally, call: Callable[[], object], allowed: tuple[type, ...] = (),
           must_fail: bool = False, limit_s: float = CALL_LIMIT_S) -> object:
    """One attempt: success (unless ``must_fail``) or an error of ``allowed`` types is clean."""
    tally.tried += 1
    t0 = time.monotonic()
    kind, value = bounded(call, limit_s)
    tally.slowest_s = max(tally.slowest_s, time.monotonic() - t0)
    if kind == "hang":
        tally.hangs += 1
        tally.note(f"no answer within {limit_s:.0f} s")
    elif kind == "ok" and not must_fail:
        tally.clean += 1
    elif kind == "error" and isinstance(value, allowed):
        tally.clean += 1
    else:
        tally.wrong += 1
        tally.note("succeeded" if kind == "ok" else f"{type(value).__name__}: {value}"[:120])
    return value


# -- checking the records -------------------------------------------------------------------
def files_of_every_row(station: Station) -> tuple[set[int], int]:
    """The inspection ids, and how many files their rows point to that are missing or wrong."""
    missing = 0
    with station.database.engine.connect() as conn:
        ids = {r[0] for r in conn.execute(text("SELECT id FROM inspections"))}
        rows = conn.execute(text(
            "SELECT image_sha, image_ext, heatmap_sha FROM side_results")).all()
        thumbs = conn.execute(text("SELECT thumbnail_sha, thumbnail_ext FROM inspections "
                                   "WHERE thumbnail_sha IS NOT NULL")).all()
    wanted = [(s, e) for s, e, _h in rows] + [(h, "png") for _s, _e, h in rows if h] + thumbs
    for sha, ext in wanted:
        path = station.files.path(sha, ext)
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                missing += 1
        except OSError:
            missing += 1
    return ids, missing


def age_all(folder: Path, seconds: float = 7200) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            t = p.stat().st_mtime - seconds
            os.utime(p, (t, t))


def keyed(product_id: int, seed: str, key: str | None = None) -> NewInspection:
    base = new_inspection(product_id, seed)
    return NewInspection(**{**base.__dict__, "capture_key": key or str(uuid.uuid4())})


def new_station(data: Path, url: str | None = None, **kw: object) -> Station:
    return Station.open(url, data, password_hasher=HASHER, **kw)


