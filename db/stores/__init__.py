"""Image stores: where photos, heatmaps and thumbnails are kept (see :mod:`db.stores.base`).

``open_store(url, data_dir)``: None or "" is the data folder (:class:`db.filestore.FileStore`,
the embedded default); ``s3://bucket/prefix`` is S3-compatible object storage
(:class:`db.stores.s3.S3Store`), with its endpoint and credentials from the environment or a file
(:mod:`db.stores.config`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from db.stores.base import ImageStore, SweepReport, image_key, split_name
from db.stores.config import S3Access, S3Location, s3_access

__all__ = ["ImageStore", "S3Access", "S3Location", "SweepReport", "image_key", "open_store",
           "split_name"]

CACHE_DIR = "cache/images"


def open_store(url: str | None, data_dir: Path, *, environ: Mapping[str, str] | None = None,
               credentials_file: str | Path | None = None,
               wait_s: float = 30.0, read_wait_s: float = 5.0) -> ImageStore:
    """The store ``url`` names. An object store is checked (bucket there, station accepted;
    waiting up to ``wait_s``): ImageStoreRefused / ImageStoreUnavailable otherwise."""
    from db.filestore import FileStore

    data_dir = Path(data_dir)
    if not url:
        return FileStore(data_dir / "images", data_dir)
    from db.stores.s3 import S3Store

    location = S3Location.parse(url)
    access = s3_access(os.environ if environ is None else environ, credentials_file)
    store = S3Store(location, access, data_dir / CACHE_DIR, wait_s=wait_s,
                    read_wait_s=read_wait_s)
    try:
        store.check()
    except BaseException:
        store.close()
        raise
    return store
