"""Content-addressed files (side images, heatmaps, thumbnails) under ``<data_dir>/images``.

A file is named by the SHA-256 of its bytes: ``images/ab/cd/<sha256>.<ext>``. ``put`` writes a
temporary file, fsyncs it, renames it into place and fsyncs the folder (``common.atomic``), so once ``put`` returns
the file survives a crash; the services call it BEFORE the row that points at it commits. A crash
between the two leaves a file without a row; :meth:`FileStore.sweep` (run at every start) removes
such files and stale temporary files, but only those older than a grace period, so that a file
another station process has written and is about to commit is not taken from under it.

The sweep only looks into folders whose modification time is later than the previous sweep's
start minus the grace period (adding, renaming or removing a file touches its folder), so a start
with a large, clean store costs one ``stat`` per folder. A sweep that would remove more than a
small share of the store (:data:`SWEEP_MAX_SHARE`, and more than :data:`SWEEP_ALWAYS_OK` files)
removes nothing: it says so in the log and waits for a person to confirm (``main.py sweep
--confirm``), because so many orphans mean a wrong or damaged database far more often than a
crash. (``Station.open`` also refuses a database that does not own the folder: db.identity.)

A full disk makes ``put`` raise ``StorageFull`` with nothing half-written.

Threading: any number of threads and processes may call ``put`` at once (temporary names are
unique; renaming identical content over identical content is harmless). ``sweep`` runs at start.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from common.atomic import TMP_MARK, write_bytes
from db.errors import PhotoMissing, StorageFull, is_disk_full
from db.stores.base import (
    ID_OBJECT,
    NAME,
    SWEEP_ALWAYS_OK,
    SWEEP_MAX_SHARE,
    ImageStore,
    IsReferenced,
    SweepReport,
    split_name,
)

__all__ = ["ALLOWED_EXTS", "SWEEP_ALWAYS_OK", "SWEEP_MAX_SHARE", "FileStore", "SweepReport",
           "canonical_ext", "image_kind", "same_kind", "sniff_ext"]

log = logging.getLogger(__name__)

_NAME = NAME
_TMP_MARK = TMP_MARK     # common.atomic's temporary names: a crash's leftovers are swept
_SWEEP_STAMP = ".last-sweep"
ALLOWED_EXTS = frozenset({"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "bin"})
OBJECTS_DIR = "site-objects"


class FileStore(ImageStore):
    """The local data folder's store: ``root`` is ``<data_dir>/images``; the data id lives in
    ``<data_dir>/station-data-id`` and named site objects under ``<data_dir>/site-objects``."""

    shared = False

    def __init__(self, root: Path, data_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.data_dir = Path(data_dir) if data_dir is not None else self.root.parent

    def describe(self) -> str:
        return f"the data folder {self.data_dir}"

    def fetch(self, path: Path | str) -> Path:
        """The file itself (local): checked to be this store's and to exist."""
        sha, ext = split_name(path)
        found = self.path(sha, ext)
        if not found.is_file():
            raise PhotoMissing(f"The file {found.name} is missing from {self.describe()} (it "
                               "was deleted or the folder was restored from an older copy).")
        return found

    def exists(self, sha: str, ext: str) -> bool:
        return self.path(sha, ext).is_file()

    def put_object(self, name: str, data: bytes) -> None:
        target = self._object_path(name)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if is_disk_full(exc):
                raise StorageFull(str(self.data_dir), "save the file") from exc
            raise
        write_bytes(target, data, where=self.data_dir)

    def get_object(self, name: str) -> bytes | None:
        try:
            return self._object_path(name).read_bytes()
        except FileNotFoundError:
            return None

    def _object_path(self, name: str) -> Path:
        if name == ID_OBJECT:
            return self.data_dir / ID_OBJECT
        parts = [p for p in name.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise ValueError(f"not an object name: {name!r}")
        return self.data_dir.joinpath(OBJECTS_DIR, *parts)

    def path(self, sha: str, ext: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / f"{sha}.{ext}"

    def put(self, data: bytes, ext: str) -> tuple[str, bool]:
        """Store ``data`` durably; returns (sha256, True if this call created the file)."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha, ext)
        existed = dest.exists()
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if is_disk_full(exc):
                raise StorageFull(str(self.root), "save the photos") from exc
            raise
        # Rewritten even when it exists: cheap insurance should a delete race have removed it.
        write_bytes(dest, data, where=self.root)
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

    def iter_files(self) -> Iterator[tuple[str, str]]:
        """(sha256, ext) of every stored file, folder by folder (lazy: stop when you like)."""
        if not self.root.is_dir():
            return
        for top in _subdirs(self.root):
            for leaf in _subdirs(top):
                for entry in os.scandir(leaf):
                    if (m := _NAME.match(entry.name)) and entry.is_file():
                        yield m.group(1), m.group(2)

    def sweep(self, is_referenced: IsReferenced,
              grace_s: float = 3600.0, now: float | None = None,
              full: bool = False, max_share: float | None = SWEEP_MAX_SHARE) -> SweepReport:
        """Remove files no row references and stale temporary files, older than ``grace_s``.

        ``is_referenced(shas)`` returns the subset of ``shas`` that some row still points to.
        ``full`` looks into every folder, not only those changed since the last sweep.
        ``max_share``: when more than this share of all stored files (and more than
        SWEEP_ALWAYS_OK) would go, nothing is removed and the report's ``held`` says how many;
        None removes them all (a person confirmed).
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
        doomed: list[Path] = []
        for i in range(0, len(shas), 500):
            batch = shas[i:i + 500]
            used = is_referenced(batch)
            for sha in batch:
                if sha in used:
                    kept += len(candidates[sha])
                else:
                    doomed += candidates[sha]
        if max_share is not None and len(doomed) > SWEEP_ALWAYS_OK:
            total = sum(1 for _ in self.iter_files())
            if len(doomed) > max_share * total:
                report = SweepReport(0, temps, kept, held=len(doomed), total=total)
                log.warning(report.message)
                return report   # the stamp stays: the next sweep looks at these folders again
        for p in doomed:
            p.unlink(missing_ok=True)
            orphans += 1
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            stamp.write_text(repr(now))
        except OSError as exc:   # only costs a full look next time
            log.warning("could not note the sweep's time in %s: %s", stamp, exc)
        if orphans or temps:
            log.info("file sweep removed %d orphaned and %d temporary files", orphans, temps)
        return SweepReport(orphans, temps, kept)


_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"BM", "bmp"),
          (b"II*\x00", "tif"), (b"MM\x00*", "tif"))
_SAME_EXT = {"jpeg": "jpg", "tiff": "tif"}


def image_kind(data: bytes) -> str | None:
    """The image type the bytes' first bytes (magic number) say, or None if no image type."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def canonical_ext(ext: str) -> str:
    """``".JPEG"`` -> ``"jpeg"`` as stored; compare kinds with :func:`same_kind`."""
    return ext.lower().lstrip(".")


def same_kind(ext: str, kind: str | None) -> bool:
    e = canonical_ext(ext)
    return kind is not None and _SAME_EXT.get(e, e) == kind


def sniff_ext(data: bytes) -> str:
    """File extension for an encoded image whose type the caller did not say (thumbnails)."""
    return image_kind(data) or "bin"


def _subdirs(folder: Path) -> list[Path]:
    return [Path(e.path) for e in os.scandir(folder) if e.is_dir() and len(e.name) == 2]
