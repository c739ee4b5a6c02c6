"""Several stations, one site (issue 15): station identity, the site's models, the photo journal.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

- ``stations``: each station's name (unique by its normalised key), the id it keeps in its data
  folder (``uid``), host, first seen, last contact, the product and model it runs now, retired.
  Back-filled from the station names of existing inspections (``uid`` NULL: the first station
  that starts with such a name claims the row).
- ``inspections.station_id``: the station that recorded the can (back-filled by name), with an
  index for the gallery's per-station filter. SQLite rebuilds the table and then restores its
  AUTOINCREMENT sequence (the rebuild would restart it at the highest id left).
- ``models.weights_sha256``, ``models.package_sha256`` (SHA-256 of model.json), ``published_at``:
  a model in the shared store that every station downloads and verifies.
- ``pending_objects``: objects being written to a shared photo store (the sweep's journal).

Frozen: the name key rule is copied here, not imported.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KEY_LEN = 512


def _key(value: str) -> str:   # frozen copy of db.names.name_key
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join("".join(ch for ch in folded if unicodedata.category(ch) != "Cf").split())


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    autoinc = {"sqlite_autoincrement": True}
    stations = op.create_table(
        "stations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(36), nullable=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(_KEY_LEN), nullable=False),
        sa.Column("host", sa.String(255), nullable=False, server_default=""),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_contact", sa.DateTime, nullable=True),
        sa.Column("product_id", sa.Integer,
                  sa.ForeignKey("products.id", ondelete="SET NULL", name="fk_stations_product"),
                  nullable=True),
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("models.id", ondelete="SET NULL", name="fk_stations_model"),
                  nullable=True),
        sa.Column("model_since", sa.DateTime, nullable=True),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
        **autoinc,
    )
    op.create_index("uq_stations_uid", "stations", ["uid"], unique=True)
    op.create_index("uq_stations_name_key", "stations", ["name_key"], unique=True)
    op.create_table(
        "pending_objects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("ext", sa.String(8), nullable=False),
        sa.Column("station_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        **autoinc,
    )
    op.create_index("ix_pending_objects_sha", "pending_objects", ["sha"])
    op.create_index("ix_pending_objects_created", "pending_objects", ["created_at"])
    for name in ("weights_sha256", "package_sha256"):
        op.add_column("models", sa.Column(name, sa.String(64), nullable=True))
    op.add_column("models", sa.Column("published_at", sa.DateTime, nullable=True))

    if sqlite:
        with _sequence_kept(bind):
            with op.batch_alter_table("inspections", recreate="always",
                                      table_kwargs=autoinc) as b:
                b.add_column(sa.Column("station_id", sa.Integer, nullable=True))
                b.create_foreign_key("fk_inspections_station", "stations", ["station_id"],
                                     ["id"], ondelete="SET NULL")
    else:
        op.add_column("inspections", sa.Column("station_id", sa.Integer, nullable=True))
        op.create_foreign_key("fk_inspections_station", "inspections", "stations",
                              ["station_id"], ["id"], ondelete="SET NULL")
    op.create_index("ix_inspections_station", "inspections",
                    ["station_id", "started", "final_verdict", "id"])
    _backfill(bind, stations)


def _backfill(bind: sa.engine.Connection, stations: sa.Table) -> None:
    """One station per distinct (normalised) station name of the existing inspections."""
    ins = sa.table("inspections", sa.column("id", sa.Integer),
                   sa.column("station_name", sa.String), sa.column("started", sa.DateTime),
                   sa.column("finished", sa.DateTime), sa.column("station_id", sa.Integer))
    groups: dict[str, dict] = {}
    for name, n, first, last in bind.execute(
            sa.select(ins.c.station_name, sa.func.count(), sa.func.min(ins.c.started),
                      sa.func.max(ins.c.finished)).group_by(ins.c.station_name)):
        key = _key(name or "") or "(no name)"
        g = groups.setdefault(key, {"names": [], "best": (-1, ""), "first": first, "last": last})
        g["names"].append(name)
        g["best"] = max(g["best"], (n, name))
        g["first"], g["last"] = min(g["first"], first), max(g["last"], last)
    for key, g in sorted(groups.items()):
        label = (g["best"][1] or "(no name)").strip()[:128] or "(no name)"
        inserted = bind.execute(stations.insert().values(
            uid=None, name=label, name_key=key[:_KEY_LEN], host="", first_seen=g["first"],
            last_contact=g["last"], retired=False)).inserted_primary_key
        assert inserted is not None
        new_id = inserted[0]
        bind.execute(ins.update().where(ins.c.station_name.in_(g["names"]))
                     .values(station_id=new_id))


@contextmanager
def _sequence_kept(bind: sa.engine.Connection, table: str = "inspections") -> Iterator[None]:
    """A table rebuild restarts SQLite's AUTOINCREMENT sequence at the highest id left, so a
    deleted row's id would be handed out again: put the sequence back."""
    seq = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
                               ).scalar()
    yield
    if seq is not None:
        bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?",
                             (int(seq), table))
        if not bind.exec_driver_sql("SELECT count(*) FROM sqlite_sequence WHERE name = ?",
                                    (table,)).scalar():
            bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                                 (table, int(seq)))


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    autoinc = {"sqlite_autoincrement": True}
    op.drop_index("ix_inspections_station", table_name="inspections")
    if sqlite:
        with _sequence_kept(bind):
            with op.batch_alter_table("inspections", recreate="always",
                                      table_kwargs=autoinc) as b:
                b.drop_constraint("fk_inspections_station", type_="foreignkey")
                b.drop_column("station_id")
    else:
        op.drop_constraint("fk_inspections_station", "inspections", type_="foreignkey")
        op.drop_column("inspections", "station_id")
    if sqlite:
        with _sequence_kept(bind, "models"):
            with op.batch_alter_table("models", recreate="always", table_kwargs=autoinc) as b:
                for name in ("published_at", "package_sha256", "weights_sha256"):
                    b.drop_column(name)
    else:
        for name in ("published_at", "package_sha256", "weights_sha256"):
            op.drop_column("models", name)
    op.drop_index("ix_pending_objects_created", table_name="pending_objects")
    op.drop_index("ix_pending_objects_sha", table_name="pending_objects")
    op.drop_table("pending_objects")
    op.drop_index("uq_stations_name_key", table_name="stations")
    op.drop_index("uq_stations_uid", table_name="stations")
    op.drop_table("stations")
