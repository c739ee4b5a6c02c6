"""Databases as older stations left them, on SQLite or PostgreSQL, for the upgrade tests.

``tests/db/fixtures/first_schema.sqlite3`` (revision 0001, rows in every table) is copied into an
empty database of the backend at 0001, then upgraded to the revision asked for.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, create_engine, insert, select, text

from db.migrate import upgrade

FIXTURE = Path(__file__).with_name("fixtures") / "first_schema.sqlite3"
FIXTURE_PASSWORD = "first-release-pw"
TABLES = ["users", "warehouses", "models", "products", "inspections", "side_results",
          "corrections", "audit_events"]


def target_url(db_url: str | None, data: Path) -> str:
    """The URL to fill: the station's SQLite file in ``data`` (made here), or ``db_url``."""
    if db_url is not None:
        return db_url
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'station.sqlite3'}"


def make_old_database(url: str, revision: str = "0001") -> None:
    """The first-schema fixture's rows in ``url``, upgraded to ``revision``."""
    target = create_engine(url)
    upgrade(target, None, target="0001")
    source = create_engine(f"sqlite:///{FIXTURE}")
    src_meta, dst_meta = MetaData(), MetaData()
    src_meta.reflect(source)
    dst_meta.reflect(target)
    with source.connect() as src, target.begin() as dst:
        for table in TABLES:   # reflected, typed tables: booleans, times and JSON convert
            rows = [dict(r._mapping) for r in src.execute(select(src_meta.tables[table]))]
            dst.execute(insert(dst_meta.tables[table]), rows)
        if target.dialect.name == "postgresql":   # keep the id sequences ahead of copied ids
            for table in TABLES:
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
    source.dispose()
    if revision != "0001":
        upgrade(target, None, target=revision)
    target.dispose()


def execute(url: str, *statements: str, **params: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql), params)
    finally:
        engine.dispose()
