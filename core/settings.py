"""Station settings: declared once, typed, stored as JSON in the data folder.

Where things live: the data folder is chosen, in order, by the ``--data-dir`` flag, the
``STATION_DATA_DIR`` environment variable, or platformdirs' user data folder. The database URL
defaults to an SQLite file inside it; ``--db-url`` or ``STATION_DB_URL`` point several stations at
one PostgreSQL server instead.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "can-inspection-station"
SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    data_dir: Path
    db_url: str | None = None              # None → sqlite:///<data_dir>/station.sqlite3
    station_name: str = field(default_factory=socket.gethostname)
    camera_device: str = "0"               # OpenCV index or a URL / file path
    camera_width: int = 1280
    camera_height: int = 720
    torch_threads: int = 0                 # 0 → let torch decide

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in asdict(self).items() if k not in ("data_dir",)}
        tmp = self.data_dir / (SETTINGS_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.data_dir / SETTINGS_FILE)


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def resolve_settings(data_dir: str | Path | None = None, db_url: str | None = None,
                     environ: dict[str, str] | None = None) -> Settings:
    """Flag beats environment beats settings file beats default."""
    env = os.environ if environ is None else environ
    folder = Path(data_dir or env.get("STATION_DATA_DIR") or default_data_dir()).expanduser()
    stored: dict = {}
    path = folder / SETTINGS_FILE
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            stored = {}  # a damaged settings file must not keep the station from starting
    known = {f.name for f in fields(Settings)} - {"data_dir"}
    settings = Settings(data_dir=folder, **{k: v for k, v in stored.items() if k in known})
    settings.db_url = db_url or env.get("STATION_DB_URL") or settings.db_url
    return settings
