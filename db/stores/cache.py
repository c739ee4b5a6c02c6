"""The station's local read cache of an object store's photos: ``<data_dir>/cache/images``.

A file gets here when this station stored it or fetched it (and its SHA-256 was checked), under
the same ``ab/cd/<sha256>.<ext>`` names, so the gallery opens a photo another station recorded
once and then from the local disk. The cache is disposable (deleting it loses nothing); it is
kept under ``limit_bytes`` by removing the least recently used files (by modification time,
which a hit refreshes).

Threading: any thread and process may use it at once (temporary names are unique; renames are
atomic; a file trimmed while another thread reads it is fetched again).
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 2 * 1024**3
TRIM_EVERY = 500       # puts between two looks at the cache's size
TMP_SUFFIX = ".part"


class ReadCache:
    def __init__(self, root: Path, limit_bytes: int = DEFAULT_LIMIT) -> None:
        self.root = Path(root)
        self.limit_bytes = limit_bytes
        self._lock = threading.Lock()
        self._puts = 0

    def path(self, sha: str, ext: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / f"{sha}.{ext}"

    def get(self, sha: str, ext: str) -> Path | None:
        path = self.path(sha, ext)
        try:
            os.utime(path)          # a hit keeps it from being trimmed first
        except OSError:
            return None
        return path

    def put(self, sha: str, ext: str, data: bytes) -> Path | None:
        """Keep a copy (no fsync: a cache); None when the disk refuses (the caller goes on)."""
        path = self.path(sha, ext)
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not keep a copy of %s in the read cache %s: %s", path.name,
                        self.root, exc)
            tmp.unlink(missing_ok=True)
            return None
        with self._lock:
            self._puts += 1
            due = self._puts % TRIM_EVERY == 0
        if due:
            self.trim()
        return path

    def trim(self) -> int:
        """Remove the least recently used files until the cache holds at most 80 % of its
        limit (and stale temporary files); returns how many files went."""
        entries: list[tuple[float, int, str]] = []
        total = 0
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                full = os.path.join(folder, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                entries.append((st.st_mtime, st.st_size, full))
                total += st.st_size
        if total <= self.limit_bytes:
            return 0
        removed = 0
        for _mtime, size, full in sorted(entries):
            if total <= 0.8 * self.limit_bytes:
                break
            try:
                os.unlink(full)
            except OSError:
                continue
            total -= size
            removed += 1
        log.info("read cache %s: removed %d least recently used files", self.root, removed)
        return removed
