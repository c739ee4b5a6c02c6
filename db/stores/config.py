"""Where the photos go: ``--store-url`` (``s3://bucket/prefix``), and how to reach the object store.

The URL names the bucket and a key prefix only; the endpoint and the credentials never appear in it
(so it may be shown, logged and kept in ``settings.json``). They come from, first to last:

1. the environment: ``STATION_STORE_ENDPOINT``, ``STATION_STORE_REGION``,
   ``STATION_STORE_ACCESS_KEY``, ``STATION_STORE_SECRET_KEY``;
2. a credentials file, named by ``STATION_STORE_CREDENTIALS`` (or the ``store_credentials``
   setting): JSON ``{"endpoint": ..., "region": ..., "access_key": ..., "secret_key": ...}``;
3. the AWS variables boto3 knows (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, ``AWS_REGION``,
   ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``).

Any S3 API works (SeaweedFS, Ceph RGW, AWS S3, ...). The access key and the secret key are kept
out of ``repr``, messages and logs (tests/db/test_store_config.py checks that).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from db.errors import ImageStoreRefused

ENV_ENDPOINT = "STATION_STORE_ENDPOINT"
ENV_REGION = "STATION_STORE_REGION"
ENV_ACCESS_KEY = "STATION_STORE_ACCESS_KEY"
ENV_SECRET_KEY = "STATION_STORE_SECRET_KEY"
ENV_CREDENTIALS = "STATION_STORE_CREDENTIALS"
MAX_FILE = 64 * 1024

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = ""        # without slashes at either end; "" = the bucket's root

    @classmethod
    def parse(cls, url: str) -> S3Location:
        text = str(url).strip()
        if not text.startswith("s3://"):
            raise ImageStoreRefused(
                f"The photo store URL {text!r} is not one the station knows: use "
                "s3://bucket/prefix for object storage, or leave it empty for the data folder.")
        bucket, _, prefix = text[5:].partition("/")
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ImageStoreRefused(
                f"{bucket!r} in the photo store URL {text!r} is not a valid bucket name (3 to 63 "
                "lower-case letters, digits, dots and hyphens).")
        parts = [p for p in prefix.split("/") if p]
        if any(not _PREFIX_PART.match(p) or p in (".", "..") for p in parts):
            raise ImageStoreRefused(
                f"The key prefix {prefix!r} in the photo store URL {text!r} may only hold "
                "letters, digits, '.', '_', '-' and '/'.")
        return cls(bucket, "/".join(parts))

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


@dataclass(frozen=True)
class S3Access:
    """Endpoint and credentials. ``access_key``/``secret_key`` never show in ``repr``."""

    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    source: str = "boto3's defaults"   # where they came from, for messages

    def where(self) -> str:
        return self.endpoint or "the AWS S3 default endpoint"


def s3_access(environ: Mapping[str, str], credentials_file: str | Path | None = None) -> S3Access:
    """Resolve the endpoint and credentials (see the module docstring)."""
    values: dict[str, str | None] = {"endpoint": None, "region": None, "access_key": None,
                                     "secret_key": None}
    sources: list[str] = []
    aws = {"endpoint": environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL"),
           "region": environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"),
           "access_key": environ.get("AWS_ACCESS_KEY_ID"),
           "secret_key": environ.get("AWS_SECRET_ACCESS_KEY")}
    if any(aws.values()):
        values.update({k: v for k, v in aws.items() if v})
        sources.append("the AWS_* environment variables")
    path = environ.get(ENV_CREDENTIALS) or credentials_file
    if path:
        values.update({k: v for k, v in _read_file(Path(path)).items() if v})
        sources.append(f"the file {path}")
    own = {"endpoint": environ.get(ENV_ENDPOINT), "region": environ.get(ENV_REGION),
           "access_key": environ.get(ENV_ACCESS_KEY), "secret_key": environ.get(ENV_SECRET_KEY)}
    if any(own.values()):
        values.update({k: v for k, v in own.items() if v})
        sources.append("the STATION_STORE_* environment variables")
    if bool(values["access_key"]) != bool(values["secret_key"]):
        raise ImageStoreRefused(
            "Only half of the photo store's credentials is set (an access key without a secret "
            f"key or the reverse; read from {_joined(sources)}). Set both.")
    return S3Access(endpoint=values["endpoint"], region=values["region"],
                    access_key=values["access_key"], secret_key=values["secret_key"],
                    source=_joined(sources) if sources else "boto3's defaults")


def _read_file(path: Path) -> dict[str, str | None]:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise ImageStoreRefused(f"The photo store's credentials file {path} cannot be read "
                                f"({exc.strerror or exc}). Check {ENV_CREDENTIALS}.") from None
    try:
        data = json.loads(raw[:MAX_FILE].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or len(raw) > MAX_FILE:
        # The content is never quoted: it holds a secret.
        raise ImageStoreRefused(
            f"The photo store's credentials file {path} is not one JSON object like "
            '{"endpoint": "http://host:8333", "access_key": "...", "secret_key": "..."}.')
    unknown = sorted(set(data) - {"endpoint", "region", "access_key", "secret_key"})
    if unknown or not all(isinstance(v, str) or v is None for v in data.values()):
        raise ImageStoreRefused(
            f"The photo store's credentials file {path} may only hold the text values "
            "endpoint, region, access_key and secret_key"
            + (f" (it has {', '.join(map(repr, unknown))})" if unknown else "") + ".")
    return {k: data.get(k) for k in ("endpoint", "region", "access_key", "secret_key")}


def _joined(sources: list[str]) -> str:
    return ", then ".join(sources)
