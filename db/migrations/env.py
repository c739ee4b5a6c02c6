"""Alembic environment: the connection is handed in by ``db.migrate`` through
``config.attributes["connection"]``, so migrations run inside the caller's transaction and work
from an installed package without an ini file."""
from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# render_as_batch: SQLite cannot ALTER most things, so later revisions may use batch mode.
context.configure(connection=connection, target_metadata=None, render_as_batch=True,
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
