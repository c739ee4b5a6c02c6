"""Start-up faults of the records are plain messages in a dialog, and nothing is removed
(issue 9 items 1 and 9, the GUI's start-up path): a real station, a real data folder."""
from __future__ import annotations

import os

from PyQt5.QtWidgets import QMessageBox

import gui.app as app_module
from core.settings import Settings
from db import Station
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import new_inspection, populate


def test_an_empty_database_beside_a_used_data_folder_is_explained(qtbot, tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data")
    station = Station.open(None, settings.data_dir, password_hasher=FAST_HASHER)
    world = populate(station)
    station.inspections.record(world.operator, new_inspection(world.product_id, "x"))
    station.close()
    photos = [p for p in (settings.data_dir / "images").rglob("*.png")]
    for p in photos:
        t = os.stat(p).st_mtime - 7200
        os.utime(p, (t, t))
    (settings.data_dir / "station.sqlite3").write_bytes(b"")
    shown = {}
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text: shown.update(title=title, text=text))
    assert app_module.open_station(settings, tmp_path / "station.log") is None
    assert shown["title"] == "Data folder and database do not match"
    assert "is empty" in shown["text"] and "Traceback" not in shown["text"]
    assert all(p.is_file() for p in photos)


def test_a_damaged_database_is_explained(qtbot, tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    (settings.data_dir / "station.sqlite3").write_bytes(b"x" * 8192)
    shown = {}
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text: shown.update(title=title, text=text))
    assert app_module.open_station(settings, tmp_path / "station.log") is None
    assert shown["title"] == "Database damaged" and "Restore it from a backup" in shown["text"]


def test_a_full_disk_is_shown_as_its_message(qtbot, tmp_path):
    """StorageFull (common.errors, raised by db and core alike) is for a person, not a bug."""
    from common.errors import StorageFull
    from gui.errors import error_text
    exc = StorageFull("/data/images", "save the photos")
    assert error_text(exc, tmp_path / "station.log") == str(exc)
    assert not (tmp_path / "station.log").exists()
