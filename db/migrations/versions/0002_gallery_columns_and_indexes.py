"""Gallery and statistics: calendar day, corrected/final verdicts, corrected side labels, indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The first schema kept corrections only in their own table, so every gallery row had to look up
the latest one, and grouping per day needed a date function that differs between SQLite and
PostgreSQL. This revision stores the latest correction on the rows it corrects (``final_verdict``
can then be indexed and filtered), adds the station's calendar ``day`` for grouping, and the
indexes the gallery filters and sorts use. Existing rows are back-filled here.

New NOT NULL columns get a server default because SQLite can only add such columns with one (a
batch table rebuild instead would, with foreign keys on, cascade-delete the side results).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CHUNK = 2000


def _local_day(started: datetime | str) -> date:
    # The same rule as db.services.inspections.station_day: stored times are naive UTC; the day
    # is the calendar day where the station runs.
    if isinstance(started, str):  # SQLite hands back text through a plain text() query
        started = datetime.fromisoformat(started)
    return started.replace(tzinfo=timezone.utc).astimezone().date()


def upgrade() -> None:
    op.add_column("inspections", sa.Column("day", sa.Date, nullable=False,
                                           server_default="1970-01-01"))
    op.add_column("inspections", sa.Column("corrected_verdict", sa.String(16), nullable=True))
    op.add_column("inspections", sa.Column("final_verdict", sa.String(16), nullable=False,
                                           server_default="pass"))
    op.add_column("side_results", sa.Column("corrected_label", sa.String(16), nullable=True))

    bind = op.get_bind()
    insp = sa.table("inspections", sa.column("id", sa.Integer), sa.column("day", sa.Date),
                    sa.column("started", sa.DateTime), sa.column("verdict", sa.String),
                    sa.column("corrected_verdict", sa.String),
                    sa.column("final_verdict", sa.String))
    sides = sa.table("side_results", sa.column("id", sa.Integer),
                     sa.column("corrected_label", sa.String))
    corr = sa.table("corrections", sa.column("id", sa.Integer),
                    sa.column("inspection_id", sa.Integer), sa.column("side_result_id", sa.Integer),
                    sa.column("value", sa.String), sa.column("created_at", sa.DateTime))

    last_id = 0
    while True:
        rows = bind.execute(sa.select(insp.c.id, insp.c.started).where(insp.c.id > last_id)
                            .order_by(insp.c.id).limit(_CHUNK)).all()
        if not rows:
            break
        bind.execute(insp.update().where(insp.c.id == sa.bindparam("b_id"))
                     .values(day=sa.bindparam("b_day")),
                     [{"b_id": r.id, "b_day": _local_day(r.started)} for r in rows])
        last_id = rows[-1].id

    # Latest correction wins: walk them oldest first and let later ones overwrite.
    can_fix: dict[int, str] = {}
    side_fix: dict[int, str] = {}
    for c in bind.execute(sa.select(corr).order_by(corr.c.created_at, corr.c.id)):
        if c.side_result_id is None:
            can_fix[c.inspection_id] = c.value
        else:
            side_fix[c.side_result_id] = c.value
    if can_fix:
        bind.execute(insp.update().where(insp.c.id == sa.bindparam("b_id"))
                     .values(corrected_verdict=sa.bindparam("b_v")),
                     [{"b_id": k, "b_v": v} for k, v in can_fix.items()])
    if side_fix:
        bind.execute(sides.update().where(sides.c.id == sa.bindparam("b_id"))
                     .values(corrected_label=sa.bindparam("b_v")),
                     [{"b_id": k, "b_v": v} for k, v in side_fix.items()])
    bind.execute(insp.update().values(
        final_verdict=sa.func.coalesce(insp.c.corrected_verdict, insp.c.verdict)))

    # The gallery filters by one of product / warehouse / operator / verdict and a time range,
    # and sorts by time: each index walks that range in time order and carries the verdict and
    # the id, so pages and counts come from the index alone, already in the gallery's order.
    op.create_index("ix_inspections_started", "inspections", ["started", "final_verdict", "id"])
    op.create_index("ix_inspections_day", "inspections", ["day", "final_verdict"])
    op.create_index("ix_inspections_product", "inspections",
                    ["product_id", "started", "final_verdict", "id"])
    op.create_index("ix_inspections_warehouse", "inspections",
                    ["warehouse_id", "started", "final_verdict", "id"])
    op.create_index("ix_inspections_operator", "inspections",
                    ["operator_id", "started", "final_verdict", "id"])
    op.create_index("ix_inspections_verdict", "inspections", ["final_verdict", "started", "id"])
    op.create_index("ix_inspections_thumbnail_sha", "inspections", ["thumbnail_sha"])
    # Both cover what the per-side statistics read: filtered through inspections, and whole.
    op.create_index("ix_side_results_inspection", "side_results",
                    ["inspection_id", "position", "side_name", "outcome", "label",
                     "corrected_label"])
    op.create_index("ix_side_results_side", "side_results",
                    ["side_name", "outcome", "label", "corrected_label"])
    op.create_index("ix_side_results_image_sha", "side_results", ["image_sha"])
    op.create_index("ix_side_results_heatmap_sha", "side_results", ["heatmap_sha"])
    op.create_index("ix_corrections_inspection_id", "corrections", ["inspection_id"])
    op.create_index("ix_corrections_side_result_id", "corrections", ["side_result_id"])
    op.create_index("ix_products_warehouse_id", "products", ["warehouse_id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    for name, table in (("ix_audit_events_at", "audit_events"),
                        ("ix_products_warehouse_id", "products"),
                        ("ix_corrections_side_result_id", "corrections"),
                        ("ix_corrections_inspection_id", "corrections"),
                        ("ix_side_results_heatmap_sha", "side_results"),
                        ("ix_side_results_image_sha", "side_results"),
                        ("ix_side_results_side", "side_results"),
                        ("ix_side_results_inspection", "side_results"),
                        ("ix_inspections_thumbnail_sha", "inspections"),
                        ("ix_inspections_verdict", "inspections"),
                        ("ix_inspections_operator", "inspections"),
                        ("ix_inspections_warehouse", "inspections"),
                        ("ix_inspections_product", "inspections"),
                        ("ix_inspections_day", "inspections"),
                        ("ix_inspections_started", "inspections")):
        op.drop_index(name, table_name=table)
    # Plain DROP COLUMN (SQLite 3.35+), not a batch table rebuild: with foreign keys on, the
    # rebuild's DROP TABLE of inspections would cascade-delete the side results.
    op.drop_column("side_results", "corrected_label")
    for column in ("final_verdict", "corrected_verdict", "day"):
        op.drop_column("inspections", column)
