"""Station settings: declared once, typed and checked (pydantic), stored as JSON in the data folder.

Where each value comes from, first match wins: a command-line flag, the environment
(``STATION_`` + the field's name in capitals: ``STATION_DATA_DIR``, ``STATION_DB_URL``,
``STATION_CAMERA_WIDTH``...), the settings file ``settings.json`` in the data folder, the default.
The data folder itself comes from ``--data-dir``, ``STATION_DATA_DIR`` or platformdirs' user data
folder; the database URL defaults to an SQLite file inside it.

A value of the wrong type (``"camera_width": "abc"``) or damaged JSON is refused with
``SettingsInvalid``, whose message names the file (or variable) and the key. Keys this version does
not know are kept (``unknown_keys``), written back by ``save()`` and logged, never silently dropped.

Threading rule: a ``Settings`` is built on the main thread before the GUI starts; read it from any
thread, change it only on the GUI thread (assignments are validated too).
"""
from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.atomic import write_text
from core.errors import StationError

APP_NAME = "can-inspection-station"
SETTINGS_FILE = "settings.json"
ENV_PREFIX = "STATION_"
_NOT_IN_FILE = frozenset({"data_dir"})  # the file lives in the data folder, so it cannot move it

log = logging.getLogger(__name__)


class SettingsInvalid(StationError):
    """A settings file or a ``STATION_*`` variable holds a value the station cannot use."""


class Settings(BaseModel):
    """The station's settings; the field descriptions are shown to people (settings dialog)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, coerce_numbers_to_str=True)

    data_dir: Path = Field(description="Folder for the database, images, models and logs")
    db_url: str | None = Field(None, description="SQLAlchemy URL of a shared database "
                                                 "(empty: an SQLite file in the data folder)")
    station_name: str = Field(default_factory=socket.gethostname, min_length=1,
                              description="Name recorded with every inspection")
    camera_device: str = Field("0", description="OpenCV camera index, or a URL or file path")
    camera_width: int = Field(1280, gt=0, description="Camera frame width (px)")
    camera_height: int = Field(720, gt=0, description="Camera frame height (px)")
    torch_threads: int = Field(0, ge=0, description="CPU threads for the network, in every runtime "
                                                  "(0: the runtime decides)")
    inference_runtime: Literal["auto", "onnxruntime", "openvino", "torch"] = Field(
        "auto", description="What runs the network for inspection: auto (the fastest runtime that "
                            "matched torch on the model's exported network), onnxruntime, openvino "
                            "or torch")
    store_url: str | None = Field(None, description="Where the photos go: s3://bucket/prefix for "
                                  "the site's object storage (endpoint and keys from "
                                  "STATION_STORE_* or the credentials file), empty: the data "
                                  "folder")
    store_credentials: str | None = Field(None, description="A JSON file with the object "
                                          "store's endpoint, access_key and secret_key (never "
                                          "kept in the settings themselves)")
    reject_alert: bool = Field(True, description="Flash the verdict and sound on a REJECT")
    max_image_mb: int = Field(64, ge=1, le=4096,
                              description="Largest image file read (MB); larger files are refused "
                                          "before a byte is read")

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def unknown_keys(self) -> list[str]:
        """Keys read from the file that this version does not know (kept and saved back)."""
        return sorted(self.model_extra or {})

    def save(self) -> None:
        """Write ``settings.json`` atomically (temporary file, fsync, rename)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        data = self.model_dump(mode="json", exclude=set(_NOT_IN_FILE))
        write_text(self.data_dir / SETTINGS_FILE, json.dumps(data, indent=2))


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SettingsInvalid(f"The settings file {path} is not valid JSON ({exc}). Correct it or "
                              f"delete it (the station then starts with its defaults).") from exc
    except OSError as exc:
        raise SettingsInvalid(f"The settings file {path} cannot be read ({exc.strerror}).") from exc
    if not isinstance(stored, dict):
        raise SettingsInvalid(f"The settings file {path} must hold one JSON object "
                              f"({{\"key\": value, ...}}), not {type(stored).__name__}.")
    for key in sorted(_NOT_IN_FILE & stored.keys()):
        log.warning("%s: %r is ignored (the file lives in the data folder)", path, key)
        del stored[key]
    return stored


def _checked(values: dict[str, Any], where: str, source_of: Mapping[str, str]) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{source_of.get(key, key)}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsInvalid(f"Settings {where} cannot be used: " + "; ".join(problems)
                              + ". Correct the value or remove it to use the default.") from exc


def resolve_settings(data_dir: str | Path | None = None, db_url: str | None = None,
                     environ: Mapping[str, str] | None = None,
                     flags: Mapping[str, Any] | None = None) -> Settings:
    """Flag beats environment beats settings file beats default; raises ``SettingsInvalid``.

    ``data_dir`` and ``db_url`` are the two flags main.py has; ``flags`` takes any other field.
    """
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if db_url:
        given["db_url"] = db_url
    folder = Path(data_dir or env.get(env_name("data_dir")) or default_data_dir()).expanduser()
    path = folder / SETTINGS_FILE
    values: dict[str, Any] = _read_file(path)
    source_of = {key: f"{key} in {path}" for key in values}
    for name in Settings.model_fields:
        variable = env_name(name)
        if name not in _NOT_IN_FILE and env.get(variable):
            values[name] = env[variable]
            source_of[name] = f"${variable}"
    values.update(given)
    source_of.update({key: f"the --{key.replace('_', '-')} flag" for key in given})
    settings = _checked({**values, "data_dir": folder}, f"for the data folder {folder}", source_of)
    for key in settings.unknown_keys:
        log.warning("%s: unknown key %r kept as it is (this version does not use it)", path, key)
    return settings
