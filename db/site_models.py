"""Models for the whole site: published into the shared photo store, downloaded and verified by
every station.

A model is a folder with ``model.json`` (which records ``weights_sha256``) and
``weights.safetensors``. The registry keeps two checksums (revision 0004): ``package_sha256``, the
SHA-256 of model.json, and ``weights_sha256``. :meth:`SiteModels.publish` uploads both files to
``models/<package_sha256>/`` in the store (weights first, model.json last) and records them;
activating the model for a product (``models.activate``) then rolls it out: every station sees it
as the product's active model, and :meth:`ensure` downloads it into
``<data_dir>/site-models/<package_sha256>/``, checks both checksums against the registry, and only
then moves the folder into place. ``ModelInfo.folder`` is where THIS station has the model (its own
folder when the bytes there match, else that cache folder), so the inference code keeps loading
a folder; it calls :meth:`ensure` first, on its own thread, between two cans. The previous model
stays (``products.previous_model_id``), so a rollback is the same switch back.

Threading: every method may be called from any thread.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from pathlib import Path

from sqlalchemy import select

from common.atomic import replacing_folder
from db.database import Database
from db.dto import ModelInfo
from db.errors import (
    ImageStoreRefused,
    ImageStoreUnavailable,
    ModelUnavailable,
    PhotoMissing,
    StationDataError,
    ValidationError,
)
from db.permissions import Actor
from db.schema import Model, Product
from db.stores.base import ImageStore

log = logging.getLogger(__name__)

SPEC_FILE = "model.json"            # the same names as core.model.spec (db does not import core)
WEIGHTS_FILE = "weights.safetensors"
MAX_SPEC = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


class SiteModels:
    CACHE = "site-models"

    def __init__(self, db: Database, store: ImageStore, cache_dir: Path,
                 models_dir: Path | None = None) -> None:
        self._db, self._store, self.cache_dir = db, store, Path(cache_dir)
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self._seen: dict[tuple[str, int], str | None] = {}
        self._lock = threading.Lock()

    # -- where a model is on this station ----------------------------------------------------
    def locate(self, m: Model) -> str:
        """The folder of ``m`` on this station (see the module docstring); a copy under this
        station's models folder with the same name and bytes counts too (the bundled model,
        installed by every station into its own data folder)."""
        if m.package_sha256 is None or self.package_of(m.folder) == m.package_sha256:
            return m.folder
        if self.models_dir is not None:
            copy = self.models_dir / Path(m.folder).name
            if self.package_of(copy) == m.package_sha256:
                return str(copy)
        if m.published_at is None:
            return m.folder     # only its own station has it; loading says it is missing
        return str(self.cache_dir / m.package_sha256)

    def package_of(self, folder: str | Path) -> str | None:
        """SHA-256 of ``folder``/model.json, or None (no such file); cached by mtime."""
        path = Path(folder) / SPEC_FILE
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_mtime_ns)
        with self._lock:
            if key in self._seen:
                return self._seen[key]
        try:
            data = path.read_bytes() if st.st_size <= MAX_SPEC else b""
        except OSError:
            return None
        sha = hashlib.sha256(data).hexdigest() if data else None
        with self._lock:
            self._seen[key] = sha
        return sha

    # -- publishing --------------------------------------------------------------------------
    def publish(self, actor: Actor, model_id: int) -> ModelInfo:
        """Upload a registered model's files to the shared store and record their checksums
        (``model.manage``); nothing to upload with a local store (the checksums are recorded)."""
        from db.services.models import ModelService

        service = ModelService(self._db, self.locate)
        info = service.get(actor, model_id)   # catalog.view; model.manage is checked below
        folder = Path(info.folder)
        found = folder_hashes(folder)
        if found is None:
            raise ValidationError("folder", f"The model folder {folder} has no readable "
                                  f"{SPEC_FILE} with a weights checksum; save the model again "
                                  "with this version of the station first.")
        package, weights_sha = found
        spec = (folder / SPEC_FILE).read_bytes()
        if self._store.shared:
            weights = (folder / WEIGHTS_FILE).read_bytes()
            if hashlib.sha256(weights).hexdigest() != weights_sha:
                raise ValidationError("folder", f"The weights in {folder} do not match the "
                                      f"checksum in its {SPEC_FILE}: the folder is damaged.")
            self._store.put_object(f"models/{package}/{WEIGHTS_FILE}", weights)
            self._store.put_object(f"models/{package}/{SPEC_FILE}", spec)
        return service.mark_published(actor, model_id, package, weights_sha,
                                      shared=self._store.shared)

    # -- downloading -------------------------------------------------------------------------
    def ensure(self, folder: str | Path) -> str:
        """``folder`` ready to load: a site model's cache folder is downloaded first (from the
        shared store, both checksums verified against the registry). Any other folder is
        returned as it is. ModelUnavailable / ImageStoreUnavailable when it cannot be."""
        path = Path(folder)
        if path.parent != self.cache_dir or not _SHA.match(path.name) \
                or (path / SPEC_FILE).is_file():
            return str(folder)
        package = path.name
        with self._db.read() as s:
            m = s.execute(select(Model).where(Model.package_sha256 == package)
                          .order_by(Model.id)).scalars().first()
            if m is None or m.weights_sha256 is None:
                raise ModelUnavailable(f"No model of this site has the package {package}; it "
                                       "may have been deleted. Activate another model.")
            label, weights_sha = f"{m.name} {m.version}", m.weights_sha256
        try:
            spec = self._store.get_object(f"models/{package}/{SPEC_FILE}")
            weights = self._store.get_object(f"models/{package}/{WEIGHTS_FILE}")
        except (ImageStoreUnavailable, ImageStoreRefused, PhotoMissing) as exc:
            raise ModelUnavailable(f"The model {label} cannot be downloaded: {exc}") from exc
        problem = ("it is not in the store (publish it again from the station that built it)"
                   if spec is None or weights is None else
                   "its model.json does not match the registry's checksum"
                   if hashlib.sha256(spec).hexdigest() != package else
                   "its weights do not match the registry's checksum"
                   if hashlib.sha256(weights).hexdigest() != weights_sha
                   or (self._weights_in(spec) != weights_sha) else "")
        if problem or spec is None or weights is None:
            raise ModelUnavailable(f"The model {label} cannot be used on this station: "
                                   f"{problem}. Nothing was changed; the station keeps its "
                                   "current model.")
        with replacing_folder(path, where=self.cache_dir) as tmp:
            (tmp / WEIGHTS_FILE).write_bytes(weights)
            (tmp / SPEC_FILE).write_bytes(spec)
        log.info("model %s downloaded and verified into %s", label, path)
        return str(path)

    def prefetch(self) -> list[str]:
        """Download every model active for some product that this station lacks (the site
        sync's job, so a rollout switches at the next can without waiting); returns the folders
        it brought. Failures are logged and tried again next time."""
        with self._db.read() as s:
            active = s.scalars(select(Model).where(Model.id.in_(
                select(Product.model_id).where(Product.model_id.is_not(None))))).all()
            folders = [self.locate(m) for m in active]
        brought = []
        for folder in folders:
            if Path(folder).parent == self.cache_dir and not (Path(folder) / SPEC_FILE).exists():
                try:
                    brought.append(self.ensure(folder))
                except StationDataError as exc:
                    log.warning("site model not brought here yet: %s", exc)
        return brought

    @staticmethod
    def _weights_in(spec: bytes) -> str | None:
        try:
            data = json.loads(spec)
        except ValueError:
            return None
        value = data.get("weights_sha256") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None


def folder_hashes(folder: str | Path) -> tuple[str, str] | None:
    """(package_sha256, weights_sha256) of a model folder, or None when its model.json is
    missing, too large or records no weights checksum (format 1)."""
    try:
        data = (Path(folder) / SPEC_FILE).read_bytes()
        spec = json.loads(data) if len(data) <= MAX_SPEC else None
    except (OSError, ValueError):
        return None
    weights = spec.get("weights_sha256") if isinstance(spec, dict) else None
    if not isinstance(weights, str) or not _SHA.match(weights):
        return None
    return hashlib.sha256(data).hexdigest(), weights
