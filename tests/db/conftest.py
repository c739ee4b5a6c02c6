"""Fixtures for the db tests: every test that uses ``station`` runs twice, on SQLite and on a
real PostgreSQL server that these fixtures start themselves (see tests/db/pgcluster.py).

If the server cannot be started, the PostgreSQL half FAILS with the reason, so CI cannot pass
without it (``./test.sh`` installs it where it is missing); there is no way to skip it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db import Station
from db.passwords import PasswordHasher
from tests.db.helpers import FakeClock, World, populate
from tests.db.pgcluster import Cluster, ClusterError
from tests.db.seaweed import Seaweed, SeaweedError

# Still argon2id, with the smallest cost, so the suite does not spend minutes hashing.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        cluster = Cluster()
        url = cluster.start()
    except (ClusterError, OSError, Exception) as exc:  # noqa: BLE001 - report any reason
        reason = f"could not start a PostgreSQL server for the tests: {exc}"
        pytest.fail(reason, pytrace=False)
    try:
        yield url
    finally:
        cluster.stop()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the station's default file in its data folder), else an empty
    PostgreSQL database."""
    if request.param == "sqlite":
        return None
    url = request.getfixturevalue("postgres_server")
    _reset_postgres(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def open_station(db_url: str | None, data_dir: Path, clock: FakeClock
                 ) -> Iterator[Callable[..., Station]]:
    """Open (or re-open, as a restart would) the station for this test."""
    opened: list[Station] = []

    def _open(**kwargs) -> Station:
        kwargs.setdefault("now", clock)
        kwargs.setdefault("password_hasher", FAST_HASHER)
        st = Station.open(db_url, data_dir, **kwargs)
        opened.append(st)
        return st

    yield _open
    for st in opened:
        st.close()


@pytest.fixture
def station(open_station: Callable[..., Station]) -> Station:
    return open_station()


@pytest.fixture
def world(station: Station) -> World:
    return populate(station)


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[Seaweed]:
    """One throw-away SeaweedFS (S3 API) for the session; a test that stops it uses
    ``own_seaweed`` instead. If it cannot start, the tests that need it FAIL with the reason."""
    server = _start_seaweed()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def own_seaweed() -> Iterator[Seaweed]:
    """A SeaweedFS of this test alone (to stop, kill and restart)."""
    server = _start_seaweed()
    try:
        yield server
    finally:
        server.cleanup()


def _start_seaweed() -> Seaweed:
    try:
        server = Seaweed()
        server.start()
    except (SeaweedError, OSError) as exc:
        pytest.fail(f"could not start a SeaweedFS server for the tests: {exc}", pytrace=False)
    return server


@pytest.fixture
def s3_url(seaweed_server: Seaweed, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<a new bucket>/site`` on the session's SeaweedFS, its endpoint and keys in the
    environment (as a station process gets them)."""
    bucket = seaweed_server.new_bucket()
    for key, value in seaweed_server.env().items():
        monkeypatch.setenv(key, value)
    return f"s3://{bucket}/site"


@pytest.fixture
def pg_url(postgres_server: str) -> str:
    """An empty PostgreSQL database (the site's shared one)."""
    _reset_postgres(postgres_server)
    return postgres_server
