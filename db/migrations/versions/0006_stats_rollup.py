"""The statistics' hourly counts (issue 15: statistics over a million inspections).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

- ``stats_hours``: cans per product, hour of ``started`` (whole hours since 1970-01-01 UTC),
  station day and warehouse; total and per final verdict. Not per operator: that would multiply
  the rows by the operators of each hour; the per-operator figures read the inspections.
- ``stats_side_hours``: sides per product, hour, station day, warehouse and side name; sides,
  sides the machine sent to review, sides whose final label is Anomaly.

Both are back-filled from the existing rows with :func:`db.rollup.rebuild`, the one definition
of what they hold (the benchmark's bulk fill and the ``stats-rebuild`` command use it too). Not
frozen: a later revision that changes these tables or what they count must freeze a copy of the
back-fill here. No foreign keys: rows that fall to zero are removed, and a count must never hold
back deleting a product or a user.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_hours",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hour", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("warehouse_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("review", sa.Integer, nullable=False),
        sa.Column("reject", sa.Integer, nullable=False))
    op.create_table(
        "stats_side_hours",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hour", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("side_name", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("warehouse_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sides", sa.Integer, nullable=False),
        sa.Column("review", sa.Integer, nullable=False),
        sa.Column("anomaly", sa.Integer, nullable=False))
    from db.rollup import rebuild
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("stats_side_hours")
    op.drop_table("stats_hours")
