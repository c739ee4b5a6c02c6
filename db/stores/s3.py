"""S3-compatible object storage as the site's photo store (boto3; SeaweedFS, Ceph RGW, AWS S3...).

Keys: ``<prefix>/images/ab/cd/<sha256>.<ext>`` (as in the data folder), ``<prefix>/station-data-id``
and ``<prefix>/models/...``. Every write sends the bytes' MD5 and SHA-256 (``Content-MD5``,
``x-amz-checksum-sha256``); the server refuses bytes that do not match, so a successful answer
confirms the object. ``put`` returns only then, and the services call it before the row that
names the object commits.

Faults: a store that cannot be reached (connection refused, timeouts, 5xx, "slow down") is tried
again, with growing pauses, for at most ``wait_s`` seconds (``read_wait_s`` for reads, so a
gallery does not hang), then ``ImageStoreUnavailable``; a store that refuses the station (wrong
credentials, no bucket, no permission) is ``ImageStoreRefused`` at once; a missing object
``PhotoMissing``. Messages name the store by its URL and endpoint, never by a credential, and
botocore's own debug log (which carries the access key in request headers) is kept quiet.

Orphans: objects are journalled in the database while they are written (db.services.pending),
so the start-up sweep removes a crashed writer's objects without listing anything; ``sweep``
below lists by prefix, a few ``images/<xx>/`` shards per start (``shards``) or every shard
(``full``), and removes only objects older than the grace period that no row and no running
write names.

Threading: any thread may call any method (the boto3 client is thread-safe; uploads of one call
to :meth:`put_many` run on a small pool).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from db.errors import ImageStoreRefused, ImageStoreUnavailable, PhotoMissing, StorageFull
from db.stores.base import (
    NAME,
    SWEEP_ALWAYS_OK,
    SWEEP_MAX_SHARE,
    ImageStore,
    IsReferenced,
    SweepReport,
    image_key,
    split_name,
)
from db.stores.cache import ReadCache
from db.stores.config import S3Access, S3Location

log = logging.getLogger(__name__)
T = TypeVar("T")

SHARDS = tuple(f"{i:02x}" for i in range(256))
MAX_OBJECT = 512 * 1024**2
_QUIET = ("botocore", "boto3", "s3transfer", "urllib3")
_REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "NoSuchBucket",
            "AuthorizationHeaderMalformed", "InvalidBucketName", "AllAccessDisabled",
            "InvalidToken", "ExpiredToken", "AccountProblem"}
_RETRY = {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "BadDigest",
          "XAmzContentSHA256Mismatch", "RequestTimeTooSkewed", "OperationAborted",
          "InvalidDigest"}


def quiet_client_logs() -> None:
    """botocore logs request headers, with the access key, at DEBUG: never let it."""
    for name in _QUIET:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


class S3Store(ImageStore):
    shared = True

    def __init__(self, location: S3Location, access: S3Access, cache_dir: Path, *,
                 wait_s: float = 30.0, read_wait_s: float = 5.0, workers: int = 8,
                 cache_limit: int | None = None) -> None:
        import boto3
        from botocore.config import Config

        quiet_client_logs()
        self.location, self.access = location, access
        self.wait_s, self.read_wait_s = wait_s, read_wait_s
        self.cache = ReadCache(cache_dir, *([cache_limit] if cache_limit else []))
        self._client: Any = boto3.session.Session().client(
            "s3", endpoint_url=access.endpoint, region_name=access.region or "us-east-1",
            aws_access_key_id=access.access_key, aws_secret_access_key=access.secret_key,
            config=Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 1},
                          max_pool_connections=2 * workers + 2,
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="photo-store")

    def describe(self) -> str:
        return f"the photo store {self.location} at {self.access.where()}"

    def check(self) -> None:
        """At start: the bucket is there and answers this station (waits up to ``wait_s``)."""
        def head() -> None:
            try:
                self._client.head_bucket(Bucket=self.location.bucket)
            except Exception as exc:
                if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                    raise ImageStoreRefused(
                        f"The bucket {self.location.bucket!r} does not exist at "
                        f"{self.access.where()}. Create it (the station does not, so a typo in "
                        "--store-url cannot start an empty store), or correct --store-url.") \
                        from None
                raise
        self._call(head, "reach it", self.wait_s)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    # -- photos -------------------------------------------------------------------------
    def path(self, sha: str, ext: str) -> Path:
        return self.cache.path(sha, ext)

    def put(self, data: bytes, ext: str) -> tuple[str, bool]:
        sha = hashlib.sha256(data).hexdigest()
        self._put_key(image_key(sha, ext), data, sha, "save a photo")
        self.cache.put(sha, ext, data)
        return sha, True

    def put_many(self, items: Sequence[tuple[bytes, str]]) -> list[tuple[str, bool]]:
        futures = [self._pool.submit(self.put, data, ext) for data, ext in items]
        errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
        return [f.result() for f in futures]

    def fetch(self, path: Path | str) -> Path:
        sha, ext = split_name(path)
        hit = self.cache.get(sha, ext)
        if hit is not None:
            return hit
        data = self._get_photo(sha, ext)
        kept = self.cache.put(sha, ext, data)
        if kept is None:
            raise StorageFull(str(self.cache.root), "keep a copy of the photo")
        return kept

    def read(self, path: Path | str) -> bytes:
        sha, ext = split_name(path)
        hit = self.cache.get(sha, ext)
        if hit is not None:
            try:
                return hit.read_bytes()
            except OSError:
                pass   # trimmed meanwhile: fetch it again
        data = self._get_photo(sha, ext)
        self.cache.put(sha, ext, data)
        return data

    def _get_photo(self, sha: str, ext: str) -> bytes:
        data = self.get_object(image_key(sha, ext), wait_s=self.read_wait_s, what="read a photo")
        if data is None:
            raise PhotoMissing(f"The file {sha}.{ext} is missing from {self.describe()}.")
        if hashlib.sha256(data).hexdigest() != sha:
            raise PhotoMissing(f"The file {sha}.{ext} in {self.describe()} is damaged (its "
                               "bytes do not match their SHA-256).")
        return data

    def exists(self, sha: str, ext: str) -> bool:
        def head() -> bool:
            try:
                self._client.head_object(Bucket=self.location.bucket,
                                         Key=self.location.key(image_key(sha, ext)))
            except Exception as exc:
                if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            return True
        return self._call(head, "look for a photo", self.read_wait_s)

    def remove(self, sha: str, ext: str) -> None:
        self.remove_many([(sha, ext)])

    def remove_many(self, files: Sequence[tuple[str, str]]) -> None:
        """Delete objects (1000 per request); never fails the caller (the sweep comes back)."""
        keys = [{"Key": self.location.key(image_key(sha, ext))} for sha, ext in files]
        for i in range(0, len(keys), 1000):
            batch = keys[i:i + 1000]
            try:
                self._call(lambda b=batch: self._client.delete_objects(   # type: ignore[misc]
                    Bucket=self.location.bucket, Delete={"Objects": b, "Quiet": True}),
                    "remove photos", self.read_wait_s)
            except (ImageStoreUnavailable, ImageStoreRefused) as exc:
                log.warning("could not remove %d photos from %s: %s", len(batch),
                            self.describe(), exc)

    def iter_files(self) -> Iterator[tuple[str, str]]:
        for sha, ext, _ in self._list("images/"):
            yield sha, ext

    def sweep(self, is_referenced: IsReferenced, grace_s: float = 3600.0,
              now: float | None = None, full: bool = False,
              max_share: float | None = SWEEP_MAX_SHARE,
              shards: Sequence[str] | None = None) -> SweepReport:
        """Remove objects under the given ``images/<xx>/`` shards (all when ``full`` or None)
        that are older than ``grace_s`` and that ``is_referenced`` does not name (the caller
        counts rows AND running writes as references)."""
        cutoff = (time.time() if now is None else now) - grace_s
        listed = 0
        candidates: dict[str, list[tuple[str, str]]] = {}
        prefixes = ["images/"] if full or shards is None else [f"images/{x}/" for x in shards]
        for prefix in prefixes:
            for sha, ext, mtime in self._list(prefix):
                listed += 1
                if mtime <= cutoff:
                    candidates.setdefault(sha, []).append((sha, ext))
        shas, doomed, kept = list(candidates), [], 0
        for i in range(0, len(shas), 500):
            used = is_referenced(shas[i:i + 500])
            for sha in shas[i:i + 500]:
                if sha in used:
                    kept += len(candidates[sha])
                else:
                    doomed += candidates[sha]
        if max_share is not None and len(doomed) > SWEEP_ALWAYS_OK \
                and len(doomed) > max_share * listed:
            report = SweepReport(0, 0, kept, held=len(doomed), total=listed,
                                 where=str(self.location))
            log.warning(report.message)
            return report
        self.remove_many(doomed)
        if doomed:
            log.info("sweep of %s removed %d orphaned photos", self.location, len(doomed))
        return SweepReport(len(doomed), 0, kept, where=str(self.location))

    def _list(self, sub: str) -> Iterator[tuple[str, str, float]]:
        prefix = self.location.key(sub)
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": self.location.bucket, "Prefix": prefix}
            if token:
                args["ContinuationToken"] = token
            page = self._call(lambda a=args: self._client.list_objects_v2(**a),  # type: ignore[misc]
                              "list photos", self.wait_s)
            for item in page.get("Contents", ()):
                m = NAME.match(item["Key"].rsplit("/", 1)[-1])
                if m:
                    yield m.group(1), m.group(2), item["LastModified"].timestamp()
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    # -- named objects ------------------------------------------------------------------
    def put_object(self, name: str, data: bytes) -> None:
        self._put_key(name, data, hashlib.sha256(data).hexdigest(), "save a file")

    def get_object(self, name: str, wait_s: float | None = None,
                   what: str = "read a file") -> bytes | None:
        def get() -> bytes | None:
            try:
                answer = self._client.get_object(Bucket=self.location.bucket,
                                                 Key=self.location.key(name))
            except Exception as exc:
                if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
            if int(answer.get("ContentLength") or 0) > MAX_OBJECT:
                raise PhotoMissing(f"{name} in {self.describe()} is larger than the station "
                                   "accepts.")
            return bytes(answer["Body"].read())
        return self._call(get, what, self.wait_s if wait_s is None else wait_s)

    def _put_key(self, name: str, data: bytes, sha: str, what: str) -> None:
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()   # the Content-MD5 header, not security
        checksum = base64.b64encode(bytes.fromhex(sha)).decode()
        key = self.location.key(name)

        def put() -> None:
            answer = self._client.put_object(Bucket=self.location.bucket, Key=key, Body=data,
                                             ContentMD5=md5, ChecksumSHA256=checksum)
            echoed = answer.get("ChecksumSHA256")
            if echoed is not None and echoed != checksum:
                raise _Damaged(f"the store confirmed other bytes for {key}")
        self._call(put, what, self.wait_s, writing=True)

    def _call(self, fn: Callable[[], T], what: str, wait_s: float, writing: bool = False) -> T:
        deadline = time.monotonic() + wait_s
        pause = 0.2
        while True:
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - _problem sorts it: wait, refuse or raise
                problem = self._problem(exc, what)
            if time.monotonic() + pause > deadline:
                raise ImageStoreUnavailable(
                    f"{self.describe()[0].upper()}{self.describe()[1:]} cannot be reached "
                    f"({problem}); the station tried for {wait_s:.0f} s to {what}."
                    + (" Nothing that needed it was saved." if writing else "")
                    + " Check that the object storage server is running and reachable from "
                    "this station, then try again.")
            time.sleep(pause)
            pause = min(2 * pause, 2.0)

    def _problem(self, exc: Exception, what: str) -> str:
        """A short reason to try again; raises at once for faults waiting cannot mend."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        if isinstance(exc, (ImageStoreRefused, PhotoMissing, StorageFull)):
            raise exc
        if isinstance(exc, _Damaged):
            return str(exc)
        if isinstance(exc, NoCredentialsError):
            raise ImageStoreRefused(
                f"No credentials for {self.describe()}: set STATION_STORE_ACCESS_KEY and "
                "STATION_STORE_SECRET_KEY, or name a credentials file in "
                "STATION_STORE_CREDENTIALS.") from None
        if isinstance(exc, ClientError):
            code, status = _code(exc), _status(exc)
            if code in _RETRY or status >= 500 or status == 429:
                return f"{code or status}"
            if code in _REFUSED or status in (401, 403) or 400 <= status < 500:
                raise ImageStoreRefused(
                    f"{self.describe()[0].upper()}{self.describe()[1:]} refused to {what}: "
                    f"{code or status}. Check the access key and secret key (read from "
                    f"{self.access.source}), that the bucket exists, and that this key may "
                    "read and write it.") from None
            return f"{code or status}"
        if isinstance(exc, BotoCoreError):
            return type(exc).__name__
        raise exc


class _Damaged(Exception):
    pass


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(exc: BaseException) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
