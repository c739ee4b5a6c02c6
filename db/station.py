"""``Station``: the one object the GUI and the command line hold to reach the data.

``Station.open`` checks the data folder, builds the engine, refuses a database that does not own
the folder (db.identity), upgrades the schema (SQLite: backup copy first), ties database and
folder together, sweeps orphaned files (holding back a sweep that would remove more than a small
share) and wires the services. Every fault becomes a station error with a message for a person
(DataFolderUnusable, DataFolderMismatch, DatabaseBusy, DatabaseUnavailable, DatabaseDamaged,
StorageFull, SchemaOutdated, UpgradeRefused; for an object store also ImageStoreRefused,
ImageStoreUnavailable; StationNameTaken). There are no module-level singletons: open as many
stations as you like (tests open one per test).

Photos go to the data folder, or to S3-compatible object storage shared by the site
(``store="s3://bucket/prefix"``, db.stores); the database is then tied to that store instead of
the folder. A running station passes its name (``station_name``): it is registered in the
site's ``stations`` table, and every can it records names it.

Threading: a Station and all its services may be shared by every thread; each service call opens
and closes its own transaction. Call ``close()`` once at shutdown.
"""
from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from db import identity
from db.database import (
    BUSY_TIMEOUT_S,
    DEFAULT_TIMEOUTS,
    Clock,
    Database,
    Timeouts,
    make_engine,
    sqlite_url,
    to_naive_utc,
    utc_now,
)
from db.errors import DatabaseDamaged, DataFolderUnusable, StationDataError, StorageFull, is_disk_full
from db.faults import translate_error
from db.filestore import SWEEP_MAX_SHARE, SweepReport
from db.migrate import current_revision, head_revision, upgrade
from db.passwords import PasswordHasher
from db.services import pending
from db.services.audit import AuditService
from db.services.auth import AuthService
from db.services.corrections import CorrectionService
from db.services.inspections import InspectionService
from db.services.models import ModelService
from db.services.products import ProductService
from db.services.rows import referenced_shas
from db.services.stations import StationService, station_uid
from db.services.stats import StatsService
from db.services.users import UserService
from db.services.warehouses import WarehouseService
from db.site_models import SiteModels
from db.stores import ImageStore, open_store
from db.stores.s3 import SHARDS

log = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(hours=1)


@dataclass
class Station:
    url: str
    data_dir: Path
    database: Database
    files: ImageStore
    auth: AuthService
    users: UserService
    warehouses: WarehouseService
    products: ProductService
    inspections: InspectionService
    corrections: CorrectionService
    models: ModelService
    audit: AuditService
    stats: StatsService
    stations: StationService
    site_models: SiteModels
    backup_path: Path | None = None       # the copy made before this start's upgrade, if any
    sweep_report: SweepReport | None = None
    data_id: str | None = None            # ties this database to this data folder (or store)
    station_id: int | None = None         # this station in the site's list (when registered)
    _background: list[threading.Thread] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, url: str | None, data_dir: Path, *, now: Clock = utc_now,
             password_hasher: PasswordHasher | None = None,
             sweep_grace: timedelta = SWEEP_GRACE, upgrade_schema: bool = True,
             busy_timeout_s: float = BUSY_TIMEOUT_S,
             timeouts: Timeouts = DEFAULT_TIMEOUTS,
             store: ImageStore | str | None = None, station_name: str | None = None,
             store_credentials: str | Path | None = None) -> Station:
        """Open (and if needed create and upgrade) the station's database in ``data_dir``.

        ``url`` None means the SQLite file ``<data_dir>/station.sqlite3``. ``now`` is the clock
        (inject one in tests instead of sleeping). ``busy_timeout_s``: how long an SQLite writer
        waits for another before DatabaseBusy; ``timeouts``: PostgreSQL's limits. ``store``:
        None for the data folder, an ``s3://bucket/prefix`` URL (``store_credentials``: a
        credentials file, see db.stores.config) or a store object (closed with the station).
        ``station_name``: register this station in the site's list under that name. Raises only
        station errors (see the module docstring); nothing is removed when it refuses.
        """
        data_dir = _usable_folder(Path(data_dir))
        url = url or sqlite_url(data_dir)
        sqlite_file = _sqlite_file(url)
        new_file = sqlite_file is not None and not sqlite_file.exists()
        files = store if isinstance(store, ImageStore) else \
            open_store(store, data_dir, credentials_file=store_credentials)
        engine = make_engine(url, busy_timeout_s, timeouts)
        db = Database(engine, now)
        station_id = None
        try:
            revision = _peek_revision(engine, sqlite_file)
            identity.check_blank(engine, data_dir, files, revision)
            backup = upgrade(engine, sqlite_file, now()) if upgrade_schema else None
            data_id = None
            if upgrade_schema or revision == head_revision():
                data_id = identity.bind(engine, data_dir, files, lambda: to_naive_utc(now()))
            if station_name is not None:
                station_id = StationService(db).register(
                    station_uid(data_dir), station_name, socket.gethostname()).id
        except DBAPIError as exc:
            db.dispose()
            error = translate_error(exc, db.where)
            if isinstance(error, DatabaseDamaged) and sqlite_file is not None:
                error = DatabaseDamaged(f"{error} {_backups_hint(sqlite_file)}")
            raise (error or StationDataError(f"Cannot open {db.where}: {exc.orig}")) from exc
        except BaseException:
            db.dispose()
            files.close()
            if new_file and sqlite_file is not None:   # refused: leave no empty file behind
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
            raise
        hasher = password_hasher or PasswordHasher()
        inspections = InspectionService(db, files, lambda: station_id)
        site_models = SiteModels(db, files, data_dir / SiteModels.CACHE, data_dir / "models")
        station = cls(url=url, data_dir=data_dir, database=db, files=files,
                      auth=AuthService(db, hasher), users=UserService(db, hasher),
                      warehouses=WarehouseService(db), products=ProductService(db),
                      inspections=inspections, corrections=CorrectionService(db, files, lambda: station_id),
                      models=ModelService(db, site_models.locate), audit=AuditService(db),
                      stats=StatsService(db), stations=StationService(db),
                      site_models=site_models, backup_path=backup, data_id=data_id,
                      station_id=station_id)
        if data_id is not None:   # never sweep a folder this database has not been tied to
            try:
                station.sweep_report = station.sweep_files(sweep_grace)
            except BaseException:
                station.close()
                raise
        return station

    def sweep_files(self, grace: timedelta = SWEEP_GRACE, full: bool = False,
                    confirmed: bool = False) -> SweepReport:
        """Remove image files no row refers to (older than ``grace``) and stale temp files.

        More than a small share of the store is held back (``report.held``, logged) unless
        ``confirmed`` (``main.py sweep --confirm``: a person checked the database is right)."""
        if self.data_id is None:
            raise StationDataError("This database is not tied to its data folder yet (it was "
                                   "opened without the schema upgrade); nothing was swept.")

        def is_referenced(shas: Iterable[str]) -> set[str]:
            with self.database.read() as s:
                return referenced_shas(s, shas)
        if self.files.shared:
            return self._sweep_shared(grace, full, confirmed)
        # File times are the real clock's, so the sweep uses it too (not the injectable one).
        return self.files.sweep(is_referenced, grace.total_seconds(), full=full,
                                max_share=None if confirmed else SWEEP_MAX_SHARE)

    def _sweep_shared(self, grace: timedelta, full: bool, confirmed: bool) -> SweepReport:
        """A shared store: the journal's leftovers now (no listing); with ``full`` every shard
        of the store is listed too, else one shard per start, in the background."""
        removed = pending.sweep(self.database, self.files, grace)
        if not full:
            shard = _next_shard(self.database)
            t = threading.Thread(target=self._sweep_listing, args=(grace, [shard]),
                                 name="photo-sweep", daemon=True)
            self._background.append(t)
            t.start()
            return SweepReport(removed, 0, 0, where=self.files.describe())
        report = self._sweep_listing(grace, None, confirmed)
        return replace(report, removed_orphans=report.removed_orphans + removed)

    def _sweep_listing(self, grace: timedelta, shards: list[str] | None,
                       confirmed: bool = False) -> SweepReport:
        def in_use(shas: Iterable[str]) -> set[str]:
            with self.database.read() as s:
                return pending.in_use(s, shas)
        sweep: Any = self.files.sweep
        try:
            return sweep(in_use, grace.total_seconds(), full=shards is None,
                         max_share=None if confirmed else SWEEP_MAX_SHARE, shards=shards)
        except StationDataError as exc:
            if shards is None:
                raise
            log.warning("the background sweep of %s stopped: %s", self.files.describe(), exc)
            return SweepReport(0, 0, 0)

    def optimize(self) -> None:
        """Refresh the query planner's statistics (a full ``ANALYZE``: about a second on a
        database of 100 000 inspections). The gallery does not depend on it; maintenance may."""
        with self.database.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")

    def close(self) -> None:
        """Run at shutdown: lets SQLite refresh its planner statistics where it sees fit
        (``PRAGMA optimize``, cheap), then closes the connections."""
        if self.database.is_sqlite:
            try:
                with self.database.engine.begin() as conn:
                    conn.exec_driver_sql("PRAGMA optimize")
            except Exception:  # never fail a shutdown for statistics
                log.debug("ANALYZE failed at close", exc_info=True)
        for t in self._background:
            t.join(timeout=5)
        self.database.dispose()
        self.files.close()

    @classmethod
    def from_settings(cls, settings: Any, *, register: bool = False, **kwargs: Any) -> Station:
        """Open the station the settings describe (``db_url``, ``data_dir``, ``store_url``,
        ``store_credentials``, ``station_name`` with ``register``: a running station)."""
        return cls.open(getattr(settings, "db_url", None), Path(settings.data_dir),
                        store=getattr(settings, "store_url", None) or None,
                        store_credentials=getattr(settings, "store_credentials", None) or None,
                        station_name=settings.station_name if register else None, **kwargs)


def _next_shard(db: Database) -> str:
    """The ``images/<xx>/`` shard this start's background sweep lists (a cursor in
    ``station_meta``, so successive starts walk the whole store)."""
    from sqlalchemy import select

    from db.schema import StationMeta
    try:
        with db.write() as s:
            row = s.execute(select(StationMeta).where(StationMeta.key == "sweep_shard")
                            .with_for_update()).scalar_one_or_none()
            n = int(row.value) if row is not None and row.value.isdigit() else 0
            if row is None:
                s.add(StationMeta(key="sweep_shard", value="1", written_at=db.now_naive()))
            else:
                row.value, row.written_at = str((n + 1) % len(SHARDS)), db.now_naive()
            return SHARDS[n % len(SHARDS)]
    except StationDataError:
        return SHARDS[0]


def _usable_folder(data_dir: Path) -> Path:
    """``data_dir``, created if missing; DataFolderUnusable (or StorageFull) if it cannot be."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if is_disk_full(exc):
            raise StorageFull(str(data_dir), "start") from exc
        what = ("is a file, not a folder" if data_dir.exists() and not data_dir.is_dir() else
                "lies inside a file, not a folder" if isinstance(exc, NotADirectoryError) else
                f"cannot be created or written ({exc.strerror or exc})")
        raise DataFolderUnusable(
            f"The data folder {data_dir} {what}. Choose another data folder (--data-dir or "
            "STATION_DATA_DIR), or move what is in the way.") from exc
    return data_dir


def _peek_revision(engine: Engine, sqlite_file: Path | None) -> str | None:
    """The schema revision, looked at without changing anything: an SQLite file is opened read
    only (no WAL switch, no file created), so a refused start leaves it exactly as it was."""
    if sqlite_file is None:
        with engine.connect() as conn:
            return current_revision(conn)
    if not sqlite_file.exists() or sqlite_file.stat().st_size == 0:
        return None
    try:
        raw = sqlite3.connect(f"{sqlite_file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None   # the real open below says what is wrong
    try:
        return raw.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except (sqlite3.Error, TypeError):
        return None if _no_table(raw) else "?"   # "?": damaged; the upgrade will say so
    finally:
        raw.close()


def _no_table(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
                            ).fetchone()[0] == 0
    except sqlite3.Error:
        return False


def _backups_hint(sqlite_file: Path) -> str:
    backups = sorted(sqlite_file.parent.glob(f"{sqlite_file.name}.bak-*"))
    if not backups:
        return "No automatic backup lies beside it."
    return f"The newest automatic backup is {backups[-1]}."


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)
