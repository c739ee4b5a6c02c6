"""The data folder and the database belong together: a station-data id written in both.

When a database and a data folder are first used together, a random id (uuid4) is written into
the database (``station_meta``, key ``data_id``, with the time) and into the folder
(``<data_dir>/station-data-id``), or, for a site whose photos are in object storage, into the
store (the object ``<prefix>/station-data-id``): the id ties the database to its photo store
(:class:`db.stores.base.ImageStore`), whichever kind it is. At every start :func:`check_blank` (before the schema is
touched) and :func:`bind` (after the upgrade) compare them, and the start is REFUSED with
:class:`~db.errors.DataFolderMismatch` when they disagree, so the start-up sweep never runs over a
folder whose photos belong to another database:

- both hold an id and the ids differ: another database's folder (or another folder's database);
- the database is empty (a zero-byte file, a freshly created PostgreSQL database, a typo in its
  name) while the folder holds an id or photos: an empty database never owns a used folder;
- one side has no id yet (a database from before revision 0003, a new station folder beside a
  shared PostgreSQL database, a restored copy): the id is adopted only when the two evidently
  belong together: the folder holds no photos yet, or some of the database's newest photos are
  in the folder, or some of the folder's photos are in the database.

Several stations on one PostgreSQL server each keep their own data folder (every such folder
carries the database's id) or share one object store (which carries it once). Threading: run at
start, from one thread.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from common.atomic import write_bytes
from db.errors import DataFolderMismatch
from db.schema import Inspection, SideResult, StationMeta
from db.services.rows import referenced_shas
from db.stores.base import ImageStore

log = logging.getLogger(__name__)

ID_FILE = "station-data-id"
META_KEY = "data_id"
_SAMPLE = 50


def read_folder_id(data_dir: Path) -> str | None:
    """The id in a data folder (kept for callers that only have the folder)."""
    from db.filestore import FileStore
    return read_store_id(FileStore(Path(data_dir) / "images", Path(data_dir)))


def read_store_id(files: ImageStore) -> str | None:
    text = files.read_id()
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise DataFolderMismatch(
            f"The file {ID_FILE} in {files.describe()} should hold the id of the database these "
            "photos belong to, but it is damaged. If you know they belong to this database, "
            "delete that file and start again; otherwise point the station at the right "
            "database.") from None


def write_folder_id(data_dir: Path, data_id: str) -> None:
    """Atomically; a full disk is StorageFull."""
    write_bytes(Path(data_dir) / ID_FILE, (data_id + "\n").encode("ascii"), where=data_dir)


def folder_has_photos(files: ImageStore) -> bool:
    return next(files.iter_files(), None) is not None


def check_blank(engine: Engine, data_dir: Path, files: ImageStore, revision: str | None) -> None:
    """Before the schema is created in an empty database: refuse when the store is used."""
    if revision is not None:
        return
    folder_id = read_store_id(files)
    if folder_id is None and not folder_has_photos(files):
        return
    raise DataFolderMismatch(
        f"The database ({_where(engine)}) is empty, but {files.describe()} already holds "
        "a station's photos" + (f" (data id {folder_id})" if folder_id else "") + ". Starting "
        "here would treat every photo as left over. Nothing was changed. Point the station at "
        "the database these photos belong to (check the database file, or the --db-url / "
        "STATION_DB_URL setting for a typo), or choose an empty data folder for a new database.")


def bind(engine: Engine, data_dir: Path, files: ImageStore,
         now_naive: Callable[[], datetime]) -> str:
    """Check that database and store belong together, writing the id where it is missing;
    returns the data id. DataFolderMismatch when they do not belong together."""
    folder_id = read_store_id(files)
    with engine.execution_options(station_write=True).begin() as conn:
        db_id = conn.execute(select(StationMeta.value)
                             .where(StationMeta.key == META_KEY)).scalar()
        if db_id is not None and folder_id is not None:
            if db_id != folder_id:
                raise DataFolderMismatch(
                    f"{_cap(files.describe())} belongs to another database (data id "
                    f"{folder_id}); {_where(engine)} has data id {db_id}. Nothing was changed. "
                    "Point the station at the database these photos belong to, or choose the "
                    "data folder (or --store-url) of this database.")
            return db_id
        if not _belong_together(conn, files):
            raise DataFolderMismatch(
                f"The photos in {files.describe()} do not belong to {_where(engine)} "
                "(none of its photos are there, and none of the folder's are in it)"
                + ("" if _has_inspections(conn) else ", which holds no inspections at all")
                + ". Nothing was changed or removed. Point the station at the database these "
                "photos belong to, or choose an empty data folder for this database.")
        data_id = db_id or folder_id or str(uuid.uuid4())
        if db_id is None:
            conn.execute(insert(StationMeta).values(key=META_KEY, value=data_id,
                                                    written_at=now_naive()))
            log.info("database tied to %s (data id %s)", files.describe(), data_id)
    if folder_id is None:
        files.write_id(data_id)
    return data_id


def _belong_together(conn: Connection, files: ImageStore) -> bool:
    folder_sample = [sha for sha, _ext in _take(files.iter_files(), _SAMPLE)]
    if not folder_sample:
        return True   # nothing in the folder to protect (or to adopt)
    if not _has_inspections(conn):
        return False  # an empty database never owns a used folder
    recent = conn.execute(select(SideResult.image_sha, SideResult.image_ext)
                          .order_by(SideResult.id.desc()).limit(_SAMPLE)).all()
    if any(files.exists(sha, ext) for sha, ext in recent):
        return True
    with Session(bind=conn) as s:      # the query the sweep itself uses
        return bool(referenced_shas(s, folder_sample))


def _has_inspections(conn: Connection) -> bool:
    return conn.execute(select(Inspection.id).limit(1)).first() is not None


def _take(it: Iterable, n: int) -> list:
    out: list = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"the database file {url.database}"
    return f"the database {url.render_as_string(hide_password=True)}"

