"""A database URL shown to a person never carries its password."""
from __future__ import annotations

from db.database import display_url


def test_the_password_is_hidden_and_the_rest_kept():
    shown = display_url("postgresql+psycopg://bob:s3cr%40t@db.plant:5432/station")
    assert "s3cr" not in shown
    assert shown == "postgresql+psycopg://bob:***@db.plant:5432/station"
    assert display_url("sqlite:////srv/station/station.sqlite3") == \
        "sqlite:////srv/station/station.sqlite3"
    assert "cannot be read" in display_url("not a url at all")
