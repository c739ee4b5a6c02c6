"""Alembic migrations, run programmatically by :mod:`db.migrate` (no alembic.ini needed)."""
