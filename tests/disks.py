"""A real full disk for tests: a small tmpfs mounted on a folder the test owns.

``small_disk(folder, size_kb)`` mounts a tmpfs of that size on ``folder`` (created if needed) for the
duration of the ``with`` block, and ``fill(folder, leave_kb)`` writes a filler file that leaves about
``leave_kb`` free, so a later write runs into ``ENOSPC`` exactly as on a full station disk. Mounting
needs root (the CI and build machines run as root); a machine where it fails fails the test with
the reason, it never skips it.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def small_disk(folder: str | Path, size_kb: int = 1024) -> Iterator[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={int(size_kb)}k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"cannot mount a small tmpfs for the full-disk test (needs root): "
                           f"{done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def free_kb(folder: str | Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize // 1024


def fill(folder: str | Path, leave_kb: int = 0) -> Path:
    """Take all but about ``leave_kb`` of the free space with a filler file; returns its path."""
    filler = Path(folder) / "filler.bin"
    want = max(0, free_kb(folder) - leave_kb) * 1024
    with open(filler, "ab") as fh:
        chunk = b"\0" * 65536
        try:
            while want > 0:
                n = fh.write(chunk[:min(len(chunk), want)])
                want -= n
            fh.flush()
        except OSError:
            pass  # the disk is full: that is the point
    return filler
