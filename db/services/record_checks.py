"""What ``inspections.record`` refuses before it writes a file: the checks of a NewInspection.

Inconsistent input is refused with a ValidationError naming the field: a can verdict milder than
its worst side, side names the product does not have (or twice), bytes that are not the declared
image type (the first bytes are read), heatmaps that are not PNG, a region that is not a list of
pixel points, a malformed capture key. Pure functions; any thread.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import datetime

from common.sides import SIDES_PER_CAN
from db.database import to_naive_utc
from db.errors import ValidationError
from db.filestore import ALLOWED_EXTS, canonical_ext, image_kind, same_kind
from db.records import LABELS, VERDICTS, NewInspection, NewSide
from db.services._base import clean_text

MAX_REASON_CHARS = 1000
MAX_REGION_POINTS = 10_000
_CAPTURE_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_SEVERITY = {"pass": 0, "review": 1, "reject": 2}


def check_capture_key(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _CAPTURE_KEY.match(value):
        raise ValidationError("capture_key", "A capture key is 8 to 64 letters, digits or . _ : -"
                                             " (a uuid4 made when the capture started).")
    return value


def validate_new(new: NewInspection, side_names: Sequence[str]) -> None:
    if new.verdict not in VERDICTS:
        raise ValidationError("verdict", "The verdict must be pass, review or reject.")
    clean_text(new.station_name, "station_name", 128)
    clean_text(new.model_name, "model_name", 128)
    clean_text(new.model_version, "model_version", 64)
    for name, value in (("started", new.started), ("finished", new.finished)):
        if not isinstance(value, datetime):
            raise ValidationError(name, "Expected a date and time.")
    if to_naive_utc(new.finished) < to_naive_utc(new.started):
        raise ValidationError("finished", "An inspection cannot finish before it started.")
    if not isinstance(new.sides, (list, tuple)) or not 1 <= len(new.sides) <= SIDES_PER_CAN:
        raise ValidationError("sides", f"An inspection has one to {SIDES_PER_CAN} side results.")
    names = [clean_text(side.side_name, "side_name", 64) for side in new.sides]
    if len(set(names)) != len(names):
        raise ValidationError("sides", "Each side may appear only once.")
    unknown = [n for n in names if n not in side_names]
    if unknown:
        raise ValidationError("sides", f"This product has no side named {unknown[0]!r} (its "
                                       f"sides: {', '.join(side_names)}).")
    if new.thumbnail_bytes is not None:
        if not isinstance(new.thumbnail_bytes, bytes) \
                or image_kind(new.thumbnail_bytes) not in ("png", "jpg"):
            raise ValidationError("thumbnail", "The thumbnail must be a PNG or JPEG image.")
    for side in new.sides:
        _check_side(side)
    worst = max(new.sides, key=lambda side: _SEVERITY[side.outcome])
    if _SEVERITY[new.verdict] < _SEVERITY[worst.outcome]:
        raise ValidationError("verdict", f"The can cannot be {new.verdict} when side "
                                         f"{worst.side_name} is {worst.outcome}.")


def _check_side(side: NewSide) -> None:
    if not isinstance(side.image_bytes, bytes) or not side.image_bytes:
        raise ValidationError("image", f"Side {side.side_name}: the image is missing.")
    if not isinstance(side.image_ext, str) or canonical_ext(side.image_ext) not in ALLOWED_EXTS:
        raise ValidationError("image", f"Side {side.side_name}: unknown image type "
                                       f"{side.image_ext!r}.")
    kind = image_kind(side.image_bytes)
    if not same_kind(side.image_ext, kind):
        raise ValidationError("image", f"Side {side.side_name}: the image is not a "
                                       f"{canonical_ext(side.image_ext).upper()} file "
                                       f"(its first bytes say {kind or 'no image type'}).")
    if side.heatmap_bytes is not None and (not isinstance(side.heatmap_bytes, bytes)
                                           or image_kind(side.heatmap_bytes) != "png"):
        raise ValidationError("heatmap", f"Side {side.side_name}: the heatmap must be a PNG.")
    if isinstance(side.score, bool) or not isinstance(side.score, (int, float)) \
            or not math.isfinite(side.score):
        raise ValidationError("score", f"Side {side.side_name}: the score must be a number.")
    if side.label not in LABELS:
        raise ValidationError("label", "A side's label must be Good or Anomaly.")
    if side.outcome not in VERDICTS:
        raise ValidationError("outcome", "A side's outcome must be pass, review or reject.")
    clean_text(side.reason, "reason", MAX_REASON_CHARS, required=False)
    _check_region(side)
    try:
        if not isinstance(side.boxes, (list, tuple)) \
                or not all(isinstance(b, dict) for b in side.boxes):
            raise TypeError
        json.dumps(list(side.boxes), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise ValidationError("boxes", "Boxes must be a list of plain dictionaries.") from None


def _check_region(side: NewSide) -> None:
    region = side.region
    if region is None:
        return
    ok = isinstance(region, (list, tuple)) and len(region) <= MAX_REGION_POINTS and all(
        isinstance(p, (list, tuple)) and len(p) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**31 for v in p)
        for p in region)
    if not ok:
        raise ValidationError("region", f"Side {side.side_name}: the region must be a list of "
                                        "[x, y] pixel points (whole numbers).")
