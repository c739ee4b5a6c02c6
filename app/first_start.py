"""The bundled default model: installed into the data folder and registered at a station's first start.

The package ships a trained model in ``resources/models/default/`` (made by ``core``). At the
first start of a data folder it is copied to ``<data_dir>/models/default-<version>`` (so it
survives reinstalling the program) and registered with ``station.models.register_system``
(idempotent: a second station on the same server finds it registered). After that the admin
manages models in the Models panel; a deleted default is not brought back, because the copy in
the data folder is what marks "installed".

Threading: plain functions, no Qt; ``install_bundled_model`` copies files and writes one row, so
``run_gui`` calls it once at start-up before the window exists.
"""
from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from common.atomic import replacing_folder
from core.model.spec import read_spec

if TYPE_CHECKING:
    from db import Station
    from db.dto import ModelInfo

log = logging.getLogger(__name__)


def bundled_model_folder() -> Path | None:
    """``resources/models/default`` if this installation ships it."""
    folder = Path(str(resources.files("resources") / "models" / "default"))
    return folder if (folder / "model.json").is_file() else None


def install_bundled_model(station: Station, models_dir: Path,
                          source: Path | None = None) -> ModelInfo | None:
    """Copy and register the bundled model once per data folder; the ModelInfo, or None when
    nothing was done (no bundled model, or installed before)."""
    source = source or bundled_model_folder()
    if source is None:
        log.info("no bundled model in this installation")
        return None
    spec = read_spec(source)          # raises ModelFileInvalid for a broken bundle
    target = Path(models_dir) / f"default-{spec.version}"
    if target.exists():
        return None
    with replacing_folder(target) as partial:   # a crash mid-copy leaves no target folder
        shutil.copytree(source, partial, dirs_exist_ok=True)
    info = station.models.register_system(
        spec.name, str(target), spec.kind, spec.backbone, spec.version, dict(spec.metrics),
        spec.thresholds.to_dict(), dict(spec.trained_on))
    log.info("registered the bundled model %s %s at %s", spec.name, spec.version, target)
    return info
