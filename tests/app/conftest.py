"""The app layer's tests use the GUI tests' station fixtures (a real Station on a temporary SQLite
file, one user per role, a warehouse and a product) without any widget."""
from __future__ import annotations

from tests.gui.conftest import settings, station, world  # noqa: F401  (fixtures)
