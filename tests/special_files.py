"""Hostile files for tests: a FIFO, links to endless devices, a huge sparse file, and a deadline.

``hostile_files(folder, name, head)`` makes, under ``folder``, one of each kind (a FIFO, links to
``/dev/zero`` and ``/dev/urandom``, a sparse file, a folder, a dangling link, a link to itself) named like a real
file (``name``, e.g. ``x.jpg`` or ``model.json``), each in its own sub-folder, and returns
``{kind: path}``. ``head`` are the first bytes of the sparse file (a JPEG's start, say), so only a
size check can tell it from a real one. ``deadline(seconds)`` fails the block with ``TimeoutError``
when it runs longer (a blocked ``open`` on a FIFO is interrupted by the alarm), so a hang fails a
test instead of freezing the suite. Main thread only (``SIGALRM``).
"""
from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SPARSE_BYTES = 1536 * 1024 * 1024  # 1.5 GB, as in the attack; sparse, so it takes no disk space


def hostile_files(folder: str | Path, name: str, head: bytes = b"") -> dict[str, Path]:
    folder = Path(folder)
    out: dict[str, Path] = {}
    for kind in ("fifo", "dev_zero", "dev_urandom", "sparse", "folder", "dangling", "loop"):
        sub = folder / kind
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / name
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dev_zero":
            path.symlink_to("/dev/zero")
        elif kind == "dev_urandom":
            path.symlink_to("/dev/urandom")
        elif kind == "sparse":
            with open(path, "wb") as fh:
                fh.write(head)
                fh.truncate(SPARSE_BYTES)
        elif kind == "folder":
            path.mkdir()
        elif kind == "dangling":
            path.symlink_to(sub / "nothing-here")
        else:
            path.symlink_to(path)  # a link to itself: ELOOP
        out[kind] = path
    return out


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def _alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
