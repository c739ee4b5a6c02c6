"""Typed settings: precedence (flag > environment > file > default), refusals that name the file and
key, unknown keys kept, atomic save, and main.py's answer to a bad file."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import main
from core.settings import SETTINGS_FILE, Settings, SettingsInvalid, resolve_settings


def write(folder: Path, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SETTINGS_FILE
    path.write_text(json.dumps(data))
    return path


def test_defaults_without_file_or_environment(tmp_path):
    s = resolve_settings(tmp_path / "d", environ={})
    assert s.data_dir == tmp_path / "d"
    assert (s.db_url, s.camera_device, s.camera_width, s.camera_height, s.torch_threads) == \
        (None, "0", 1280, 720, 0)
    assert s.station_name == socket.gethostname()
    assert s.models_dir == tmp_path / "d" / "models"


def test_flag_beats_environment_beats_file_beats_default(tmp_path):
    folder = tmp_path / "d"
    write(folder, {"db_url": "sqlite:///file.db", "camera_width": 640, "camera_height": 480,
                   "station_name": "from-file"})
    env = {"STATION_DATA_DIR": str(folder), "STATION_DB_URL": "sqlite:///env.db",
           "STATION_CAMERA_WIDTH": "800"}
    s = resolve_settings(None, None, environ=env)
    assert s.data_dir == folder                      # environment chose the folder
    assert s.db_url == "sqlite:///env.db"            # environment beats file
    assert s.camera_width == 800                     # environment beats file, converted to int
    assert s.camera_height == 480                    # file beats default
    assert s.station_name == "from-file"
    assert s.torch_threads == 0                      # default
    s = resolve_settings(tmp_path / "flag", "sqlite:///flag.db", environ=env,
                         flags={"camera_width": 1024, "torch_threads": None})
    assert s.data_dir == tmp_path / "flag"           # flag beats environment (and so no file)
    assert s.db_url == "sqlite:///flag.db"
    assert s.camera_width == 1024                    # flag beats environment
    assert s.camera_height == 720                    # the flag's folder has no file: default


def test_wrong_type_in_file_is_refused_naming_file_and_key(tmp_path):
    path = write(tmp_path, {"camera_width": "abc"})
    with pytest.raises(SettingsInvalid) as caught:
        resolve_settings(tmp_path, environ={})
    message = str(caught.value)
    assert f"camera_width in {path}" in message
    assert "'abc'" in message and "integer" in message


def test_wrong_type_in_environment_names_the_variable(tmp_path):
    with pytest.raises(SettingsInvalid, match=r"\$STATION_TORCH_THREADS.*'-2'"):
        resolve_settings(tmp_path, environ={"STATION_TORCH_THREADS": "-2"})


@pytest.mark.parametrize("text, what", [("{not json", "not valid JSON"),
                                        ("[1, 2]", "one JSON object")])
def test_damaged_file_is_refused(tmp_path, text, what):
    (tmp_path / SETTINGS_FILE).write_text(text)
    with pytest.raises(SettingsInvalid, match=what) as caught:
        resolve_settings(tmp_path, environ={})
    assert str(tmp_path / SETTINGS_FILE) in str(caught.value)


def test_unknown_keys_are_kept_and_saved_back(tmp_path, caplog):
    write(tmp_path, {"camera_width": 640, "future_option": {"a": 1}})
    s = resolve_settings(tmp_path, environ={})
    assert s.unknown_keys == ["future_option"]
    assert "future_option" in caplog.text
    s.camera_height = 400
    s.save()
    stored = json.loads((tmp_path / SETTINGS_FILE).read_text())
    assert stored["future_option"] == {"a": 1}
    assert stored["camera_width"] == 640 and stored["camera_height"] == 400
    assert "data_dir" not in stored
    assert [p.name for p in tmp_path.iterdir()] == [SETTINGS_FILE]   # no temporary file left


def test_save_then_resolve_round_trips(tmp_path):
    s = Settings(data_dir=tmp_path, station_name="line-3", camera_device="rtsp://cam/1",
                 torch_threads=2)
    s.save()
    again = resolve_settings(tmp_path, environ={})
    assert again.model_dump() == s.model_dump()


def test_assignment_is_validated(tmp_path):
    s = Settings(data_dir=tmp_path)
    with pytest.raises(ValueError):
        s.camera_width = "abc"  # type: ignore[assignment]
    assert s.camera_width == 1280


def test_main_reports_a_bad_settings_file_and_exits_2(tmp_path, capsys):
    write(tmp_path, {"camera_height": "tall"})
    assert main.main(["--data-dir", str(tmp_path), "users"]) == 2
    err = capsys.readouterr().err
    assert "camera_height" in err and SETTINGS_FILE in err
