"""Reading a file a person named without hanging on it or filling memory with it.

A path that names a named pipe (FIFO) blocks a plain ``open`` until someone writes to it; a link to
``/dev/zero`` or ``/dev/urandom`` reads forever; a sparse file of gigabytes reads whole. So files
the station did not write itself (images, model folders) are opened here: with ``O_NONBLOCK`` (a
FIFO opens at once), links followed, and accepted only if what they lead to is a regular file no
larger than the caller's limit, checked with ``fstat`` on the opened descriptor (no race between
the check and the read). The refusals are plain exceptions the caller turns into its own
person-facing error (``UnreadableImage``, ``ModelFileInvalid``) with its own wording.

Thread-safe: no shared state.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class NotARegularFile(ValueError):
    """The path leads to a folder, pipe, device or socket; ``kind`` says which."""

    def __init__(self, path: str | Path, kind: str) -> None:
        self.path, self.kind = str(path), kind
        super().__init__(f"it is {kind}, not a regular file")


class FileTooLarge(ValueError):
    """The file holds more than the caller's limit; ``size`` and ``limit`` in bytes."""

    def __init__(self, path: str | Path, size: int, limit: int) -> None:
        self.path, self.size, self.limit = str(path), size, limit
        super().__init__(f"it is {describe_bytes(size)}, more than the limit of {describe_bytes(limit)}")


def describe_bytes(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


@contextmanager
def open_regular(path: str | Path, max_bytes: int) -> Iterator[tuple[BinaryIO, int]]:
    """Yield ``(binary file, size)`` for a regular file of at most ``max_bytes``.

    Raises ``FileNotFoundError``/``PermissionError``/other ``OSError`` as ``open`` does,
    ``NotARegularFile`` or ``FileTooLarge`` before a single byte is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if os.path.isdir(path):
        raise NotARegularFile(path, "a folder")  # os.open refuses folders only on some systems
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
            raise NotARegularFile(path, kind)
        if info.st_size > max_bytes:
            raise FileTooLarge(path, info.st_size, max_bytes)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh, info.st_size


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` (see ``open_regular``)."""
    with open_regular(path, max_bytes) as (fh, size):
        # Read what fstat promised plus one byte; a file that grew after the check (or a kernel
        # file that reports size 0) is read on in chunks, never beyond the limit.
        parts = [fh.read(size + 1)]
        total = len(parts[0])
        while total > size and total <= max_bytes:
            chunk = fh.read(min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    if total > max_bytes:
        raise FileTooLarge(path, total, max_bytes)
    return b"".join(parts) if len(parts) > 1 else parts[0]
