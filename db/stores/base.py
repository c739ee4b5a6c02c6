"""What every image store offers: the local data folder (:class:`db.filestore.FileStore`, the
embedded default) and S3-compatible object storage (:class:`db.stores.s3.S3Store`).

Photos, heatmaps and thumbnails are content-addressed: named by the SHA-256 of their bytes and
their extension (``images/ab/cd/<sha256>.<ext>``, the same key in every store). ``put`` returns
only once the bytes are durably stored and confirmed (a fsynced rename; an object whose SHA-256 the
server checked), and the services call it BEFORE the row that names the file commits.

DTOs carry a ``Path`` per file (:meth:`ImageStore.path`): the file itself in a local store, the
place in the station's read cache in an object store. Readers call :meth:`ImageStore.fetch` (or
:meth:`read`) with it, which downloads into the cache when needed, so a photo another station
recorded opens anywhere. A store that cannot be reached raises ``ImageStoreUnavailable``, one that
refuses the station ``ImageStoreRefused``, a file that is not there ``PhotoMissing``.

Besides photos a store keeps a few named objects for the site (``put_object``/``get_object``):
the database's data id (``station-data-id``, see db.identity) and the models rolled out to every
station (``models/<weights sha256>/...``).

Threading: every method may be called from any thread, and by several processes at once.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

NAME = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{1,8})$")
ID_OBJECT = "station-data-id"
SWEEP_MAX_SHARE = 0.05     # a sweep removing more than this share of the store asks first...
SWEEP_ALWAYS_OK = 50       # ...unless it removes at most this many files (a crash leaves ~15)

IsReferenced = Callable[[Iterable[str]], set[str]]


@dataclass(frozen=True)
class SweepReport:
    removed_orphans: int
    removed_temps: int
    kept: int
    held: int = 0          # orphans NOT removed: too many; a person must confirm
    total: int = 0         # files in the store, counted only when orphans were held
    where: str = "data folder"

    @property
    def message(self) -> str:
        """The log line (and the command's answer) when orphans were held."""
        return (f"The start-up sweep found {self.held} photo files (of {self.total} in the "
                f"{self.where}) that no inspection refers to, more than it removes without "
                "asking, so it removed none. If this is the right database and those "
                "inspections were deleted, remove the files with `main.py sweep --confirm`; if "
                "not, point the station at the right database.")


def split_name(path: Path | str) -> tuple[str, str]:
    """(sha256, ext) of a stored file's path or name; ValueError if it is not one."""
    m = NAME.match(Path(path).name)
    if m is None:
        raise ValueError(f"{Path(path).name!r} is not the name of a stored photo")
    return m.group(1), m.group(2)


def image_key(sha: str, ext: str) -> str:
    """The store-relative key of a photo: ``images/ab/cd/<sha>.<ext>``."""
    return f"images/{sha[:2]}/{sha[2:4]}/{sha}.{ext}"


class ImageStore(ABC):
    """The interface the services use; see the module docstring."""

    #: True when every station of the site reads and writes the same objects (object storage):
    #: recording then journals its objects (db.services.pending) and the sweep uses the journal.
    shared: bool = False

    @abstractmethod
    def describe(self) -> str:
        """How messages name the store, e.g. "the data folder /x" (never a credential)."""

    @abstractmethod
    def path(self, sha: str, ext: str) -> Path:
        """Where the file is (local store) or will be once fetched (object store's cache)."""

    @abstractmethod
    def put(self, data: bytes, ext: str) -> tuple[str, bool]:
        """Store ``data`` durably; (sha256, True if this call may have created it)."""

    def put_many(self, items: Sequence[tuple[bytes, str]]) -> list[tuple[str, bool]]:
        """:meth:`put` for each (data, ext), in order; a store may upload them in parallel.
        On an error, the files already stored stay (the caller's clean-up or the sweep)."""
        return [self.put(data, ext) for data, ext in items]

    @abstractmethod
    def fetch(self, path: Path | str) -> Path:
        """A local file with the bytes of the stored file ``path`` names (:meth:`path`)."""

    def read(self, path: Path | str) -> bytes:
        """The bytes of the stored file ``path`` names."""
        try:
            return self.fetch(path).read_bytes()
        except FileNotFoundError:
            from db.errors import PhotoMissing
            raise PhotoMissing(f"The file {Path(path).name} is missing from "
                               f"{self.describe()}.") from None

    @abstractmethod
    def exists(self, sha: str, ext: str) -> bool: ...

    @abstractmethod
    def remove(self, sha: str, ext: str) -> None:
        """Remove one file; never fails the caller (a file left behind is swept later)."""

    def remove_many(self, files: Sequence[tuple[str, str]]) -> None:
        """:meth:`remove` for each (sha, ext); never fails the caller."""
        for sha, ext in files:
            self.remove(sha, ext)

    def touch_folders(self, files: Iterable[tuple[str, str]]) -> None:
        """Mark files about to lose their row, for the next sweep (local folders only)."""
        return None

    @abstractmethod
    def iter_files(self) -> Iterator[tuple[str, str]]:
        """(sha256, ext) of every stored file (lazy)."""

    @abstractmethod
    def sweep(self, is_referenced: IsReferenced, grace_s: float = 3600.0,
              now: float | None = None, full: bool = False,
              max_share: float | None = SWEEP_MAX_SHARE) -> SweepReport:
        """Remove files no row references, older than ``grace_s`` (see the implementations)."""

    @abstractmethod
    def put_object(self, name: str, data: bytes) -> None:
        """Store a named site object (``station-data-id``, ``models/...``) durably."""

    @abstractmethod
    def get_object(self, name: str) -> bytes | None:
        """A named site object's bytes, or None when there is none."""

    def read_id(self) -> str | None:
        """The data id of the database this store belongs to (db.identity), or None."""
        data = self.get_object(ID_OBJECT)
        return None if data is None else data.decode("ascii", "replace").strip()

    def write_id(self, data_id: str) -> None:
        self.put_object(ID_OBJECT, (data_id + "\n").encode("ascii"))

    def close(self) -> None:
        """Release connections and threads (at shutdown)."""
        return None
