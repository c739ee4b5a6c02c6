"""Write a file or a whole folder so that a crash or a full disk never leaves a half-written one.

One recipe, used wherever the station writes a file a person relies on (model folders, images,
reports, exports, settings): write a temporary sibling, fsync it, rename it over the target, fsync
the folder (Electrum writes its wallet the same way). The rename is atomic, so readers see the old
content or the new, never a mix; the folder fsync makes the rename itself survive a power cut.

A disk that is full (``ENOSPC``) or a quota that is used up (``EDQUOT``) raises
``common.errors.StorageFull`` naming the target; the temporary is removed and the previous file or
folder is left exactly as it was. Every other ``OSError`` propagates unchanged.

Temporary names contain ``TMP_MARK`` (``.tmp-``) so that a sweep can recognise and remove the
leftovers of a process that was killed mid-write.

Threading: any number of threads and processes may write at once (temporary names are unique);
two writers of the same target race and the last rename wins, whole.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from common.errors import StorageFull

TMP_MARK = ".tmp-"
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def is_disk_full(exc: BaseException) -> bool:
    """True for the ``OSError`` a full disk or an exhausted quota raises."""
    return isinstance(exc, OSError) and exc.errno in _FULL


@contextmanager
def storage_errors(where: str | Path, action: str = "write") -> Iterator[None]:
    """Turn a full disk inside the block into ``StorageFull(where, action)``; nothing else changes."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise StorageFull(str(where), action) from exc
        raise


def temp_sibling(path: Path, hidden: bool = False) -> Path:
    """A unique name in ``path``'s folder that a sweep recognises as temporary (``TMP_MARK``)."""
    prefix = "." if hidden else ""
    return path.with_name(f"{prefix}{path.name}{TMP_MARK}{uuid.uuid4().hex[:12]}")


@contextmanager
def replacing(path: str | Path, *, where: str | Path | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it is fsynced and renamed onto ``path``.

    For writers that want a file name rather than bytes (``PdfPages``, ``cv2.imwrite``, a CSV
    writer). On an exception the temporary is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        with storage_errors(where or path):
            yield tmp
            fsync_file(tmp)
            os.replace(tmp, path)
            fsync_dir(path.parent)
    except BaseException:
        _remove(tmp)
        raise


def write_bytes(path: str | Path, data: bytes, *, where: str | Path | None = None) -> None:
    """Write ``data`` to ``path`` atomically and durably (see the module's docstring)."""
    with replacing(path, where=where) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8",
               where: str | Path | None = None) -> None:
    write_bytes(path, text.encode(encoding), where=where)


@contextmanager
def replacing_folder(folder: str | Path, *, where: str | Path | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder to fill; on a clean exit it takes ``folder``'s place.

    Every file in it and the folder itself are fsynced, then it is swapped with the existing
    ``folder`` in one atomic step where the system can (Linux ``renameat2(RENAME_EXCHANGE)``), else
    in two renames (old aside, new in), and the old content is removed. On an exception, or a full
    disk at any point, the temporary is removed and ``folder`` keeps its previous content.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(folder, hidden=True)
    try:
        with storage_errors(where or folder):
            tmp.mkdir()
            yield tmp
            for entry in tmp.iterdir():
                if entry.is_file():
                    fsync_file(entry)
            fsync_dir(tmp)
            _swap_into_place(tmp, folder)
            fsync_dir(folder.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # After the swap ``tmp`` holds the previous content (or nothing when there was none).
    shutil.rmtree(tmp, ignore_errors=True)


def _swap_into_place(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; afterwards ``new`` names the previous content, if any."""
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        return
    aside = temp_sibling(target, hidden=True)
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)  # put the previous folder back
        raise
    os.rename(aside, new)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ≥ 3.15, glibc ≥ 2.28); False where not available."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # old kernel or a file system without exchange: two renames instead
    raise OSError(err, os.strerror(err), str(b))


_RENAMEAT2_CACHE: list = []


def _renameat2() -> Callable[..., int] | None:
    if not _RENAMEAT2_CACHE:
        func = None
        if os.name == "posix":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
                func = getattr(libc, "renameat2", None)
            except OSError:
                func = None
            if func is not None:
                func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_uint]
                func.restype = ctypes.c_int
        _RENAMEAT2_CACHE.append(func)
    return _RENAMEAT2_CACHE[0]


def fsync_file(path: str | Path) -> None:
    # Windows flushes only through a handle opened for writing.
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | Path) -> None:
    """Make renames in ``path`` durable; not possible (nor needed) on Windows."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
