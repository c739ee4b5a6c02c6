"""Masks drawn on side photos (issue 13): where a person marked the defect, for segdec training.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

- ``side_results.mask_sha``: the content-addressed PNG (``images/``, like the photo) of the newest
  mask drawn or imported with a correction of that side; NULL = none. Indexed, because the file
  store's sweep and the inspection delete ask which rows still point at a file.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("side_results", sa.Column("mask_sha", sa.String(64), nullable=True))
    op.create_index("ix_side_results_mask_sha", "side_results", ["mask_sha"])


def downgrade() -> None:
    op.drop_index("ix_side_results_mask_sha", table_name="side_results")
    with op.batch_alter_table("side_results") as batch:
        batch.drop_column("mask_sha")
