"""Content-addressed files (side images, heatmaps, thumbnails) under ``<data_dir>/images``.

A file is named by the SHA-256 of its bytes: ``images/ab/cd/<sha256>.<ext>``. ``put`` writes a
temporary file, fsyncs it, renames it into place and fsyncs the folder, so once ``put`` returns
the file survives a crash; the services call it BEFORE the row that points at it commits. A crash
between the two leaves a file without a row; :meth:`FileStore.sweep` (run at every start) removes
such files and stale temporary files, but only those older than a grace period, so that a file
another station process has written and is about to commit is not taken from under it.

The sweep only looks into folders whose modification time is later than the previous sweep's
start minus the grace period (adding, renaming or removing a file touches its folder), so a start
with a large, clean store costs one ``stat`` per folder.

Threading: any number of threads and processes may call ``put`` at once (temporary names are
unique; renaming identical content over identical content is harmless). ``sweep`` runs at start.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from common.atomic import TMP_MARK, write_bytes

log = logging.getLogger(__name__)

_NAME = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{1,8})$")
_TMP_MARK = TMP_MARK    # common.atomic's temporary names; the sweep removes stale ones
_SWEEP_STAMP = ".last-sweep"
ALLOWED_EXTS = frozenset({"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "bin"})


@dataclass(frozen=True)
class SweepReport:
    removed_orphans: int
    removed_temps: int
    kept: int


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha: str, ext: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / f"{sha}.{ext}"

    def put(self, data: bytes, ext: str) -> tuple[str, bool]:
        """Store ``data`` durably; returns (sha256, True if this call created the file)."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha, ext)
        existed = dest.exists()
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Rewritten even when it exists: cheap insurance should a delete race have removed it.
        write_bytes(dest, data)
        return sha, not existed

    def remove(self, sha: str, ext: str) -> None:
        try:
            self.path(sha, ext).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # a file left behind is swept later; never fail the caller for it
            log.warning("could not remove %s.%s: %s", sha, ext, exc)

    def touch_folders(self, files: Iterable[tuple[str, str]]) -> None:
        """Mark the folders of files about to lose their row, so the next sweep looks there even if
        the process dies between the row's delete and the file's removal."""
        for sha, ext in files:
            folder = self.path(sha, ext).parent
            try:
                os.utime(folder)
            except OSError:
                pass

    def sweep(self, is_referenced: Callable[[Iterable[str]], set[str]],
              grace_s: float = 3600.0, now: float | None = None,
              full: bool = False) -> SweepReport:
        """Remove files no row references and stale temporary files, older than ``grace_s``.

        ``is_referenced(shas)`` returns the subset of ``shas`` that some row still points to.
        ``full`` looks into every folder, not only those changed since the last sweep.
        """
        if not self.root.is_dir():
            return SweepReport(0, 0, 0)
        now = time.time() if now is None else now
        cutoff = now - grace_s
        stamp = self.root / _SWEEP_STAMP
        try:
            since = float("-inf") if full else float(stamp.read_text()) - grace_s
        except (OSError, ValueError):
            since = float("-inf")
        orphans = temps = kept = 0
        candidates: dict[str, list[Path]] = {}
        for top in _subdirs(self.root):
            for leaf in _subdirs(top):
                if leaf.stat().st_mtime < since:
                    continue
                for entry in os.scandir(leaf):
                    if not entry.is_file() or entry.stat().st_mtime > cutoff:
                        continue
                    if _TMP_MARK in entry.name:
                        Path(entry.path).unlink(missing_ok=True)
                        temps += 1
                    elif m := _NAME.match(entry.name):
                        candidates.setdefault(m.group(1), []).append(Path(entry.path))
        shas = list(candidates)
        for i in range(0, len(shas), 500):
            batch = shas[i:i + 500]
            used = is_referenced(batch)
            for sha in batch:
                if sha in used:
                    kept += len(candidates[sha])
                    continue
                for p in candidates[sha]:
                    p.unlink(missing_ok=True)
                    orphans += 1
        self.root.mkdir(parents=True, exist_ok=True)
        stamp.write_text(repr(now))
        if orphans or temps:
            log.info("file sweep removed %d orphaned and %d temporary files", orphans, temps)
        return SweepReport(orphans, temps, kept)


def sniff_ext(data: bytes) -> str:
    """File extension for an encoded image whose type the caller did not say (thumbnails)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    return "bin"


def _subdirs(folder: Path) -> list[Path]:
    return [Path(e.path) for e in os.scandir(folder) if e.is_dir() and len(e.name) == 2]
