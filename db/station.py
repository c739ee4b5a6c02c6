"""``Station``: the one object the GUI and the command line hold to reach the data.

``Station.open`` builds the engine, upgrades the schema (SQLite: backup copy first), sweeps
orphaned files and wires the services. There are no module-level singletons: open as many
stations as you like (tests open one per test).

Threading: a Station and all its services may be shared by every thread; each service call opens
and closes its own transaction. Call ``close()`` once at shutdown.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from db.database import BUSY_TIMEOUT_S, Clock, Database, make_engine, sqlite_url, utc_now
from db.errors import DatabaseBusy, StationDataError
from db.filestore import FileStore, SweepReport
from db.migrate import upgrade
from db.passwords import PasswordHasher
from db.services.audit import AuditService
from db.services.auth import AuthService
from db.services.corrections import CorrectionService
from db.services.inspections import InspectionService
from db.services.models import ModelService
from db.services.products import ProductService
from db.services.rows import referenced_shas
from db.services.stats import StatsService
from db.services.users import UserService
from db.services.warehouses import WarehouseService

log = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(hours=1)


@dataclass
class Station:
    url: str
    data_dir: Path
    database: Database
    files: FileStore
    auth: AuthService
    users: UserService
    warehouses: WarehouseService
    products: ProductService
    inspections: InspectionService
    corrections: CorrectionService
    models: ModelService
    audit: AuditService
    stats: StatsService
    backup_path: Path | None = None       # the copy made before this start's upgrade, if any
    sweep_report: SweepReport | None = None

    @classmethod
    def open(cls, url: str | None, data_dir: Path, *, now: Clock = utc_now,
             password_hasher: PasswordHasher | None = None,
             sweep_grace: timedelta = SWEEP_GRACE, upgrade_schema: bool = True,
             busy_timeout_s: float = BUSY_TIMEOUT_S) -> Station:
        """Open (and if needed create and upgrade) the station's database in ``data_dir``.

        ``url`` None means the SQLite file ``<data_dir>/station.sqlite3``. ``now`` is the clock
        (inject one in tests instead of sleeping). ``busy_timeout_s``: how long an SQLite writer
        waits for another before DatabaseBusy. Raises SchemaOutdated when the database is
        newer than this code, DatabaseBusy when it stays locked, StationDataError when the
        server cannot be reached.
        """
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        url = url or sqlite_url(data_dir)
        engine = make_engine(url, busy_timeout_s)
        sqlite_file = _sqlite_file(url)
        try:
            backup = None
            if upgrade_schema:
                backup = upgrade(engine, sqlite_file, now())
        except OperationalError as exc:
            engine.dispose()
            if "locked" in str(exc.orig).lower():
                raise DatabaseBusy() from exc
            raise StationDataError(f"Cannot open the database ({make_url(url).render_as_string()}"
                                   f"): {exc.orig}") from exc
        except BaseException:
            engine.dispose()
            raise
        db = Database(engine, now)
        files = FileStore(data_dir / "images")
        hasher = password_hasher or PasswordHasher()
        inspections = InspectionService(db, files)
        station = cls(url=url, data_dir=data_dir, database=db, files=files,
                      auth=AuthService(db, hasher), users=UserService(db, hasher),
                      warehouses=WarehouseService(db), products=ProductService(db),
                      inspections=inspections, corrections=CorrectionService(db),
                      models=ModelService(db), audit=AuditService(db), stats=StatsService(db),
                      backup_path=backup)
        station.sweep_report = station.sweep_files(sweep_grace)
        return station

    def sweep_files(self, grace: timedelta = SWEEP_GRACE, full: bool = False) -> SweepReport:
        """Remove image files no row refers to (older than ``grace``) and stale temp files."""
        def is_referenced(shas: Iterable[str]) -> set[str]:
            with self.database.read() as s:
                return referenced_shas(s, shas)
        # File times are the real clock's, so the sweep uses it too (not the injectable one).
        return self.files.sweep(is_referenced, grace.total_seconds(), full=full)

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
        self.database.dispose()


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)
