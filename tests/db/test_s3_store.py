"""The S3 photo store against a real SeaweedFS on loopback: confirmed writes, reads from a station
that never saw the photo, checked bytes, refusals that come at once, an unreachable or
restarting store waited for within a bound, and the listing sweep's grace and hold-back."""
from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from db.errors import ImageStoreRefused, ImageStoreUnavailable, PhotoMissing
from db.stores.base import image_key
from db.stores.config import S3Access, S3Location
from db.stores.s3 import S3Store
from tests.db.pgcluster import free_port
from tests.db.seaweed import Seaweed

PNG = b"\x89PNG\r\n\x1a\n"


def make_store(server: Seaweed, bucket: str, cache: Path, secret: str | None = None,
               endpoint: str | None = None, **kwargs: float) -> S3Store:
    access = S3Access(endpoint=endpoint or server.endpoint, access_key=server.access_key,
                      secret_key=secret or server.secret_key, source="the test's settings")
    return S3Store(S3Location(bucket, "site"), access, cache, **kwargs)


def test_a_photo_is_confirmed_then_read_anywhere(seaweed_server: Seaweed, tmp_path: Path) -> None:
    bucket = seaweed_server.new_bucket()
    one = make_store(seaweed_server, bucket, tmp_path / "one")
    data = PNG + b"side photo"
    sha, created = one.put(data, "png")
    assert sha == hashlib.sha256(data).hexdigest() and created
    assert seaweed_server.keys(bucket) == [f"site/{image_key(sha, 'png')}"]
    other = make_store(seaweed_server, bucket, tmp_path / "other")   # another station
    path = other.path(sha, "png")
    assert not path.exists()
    assert other.fetch(path).read_bytes() == data and path.exists()
    assert other.read(str(path)) == data and other.exists(sha, "png")
    assert not other.exists("0" * 64, "png")
    with pytest.raises(PhotoMissing, match="missing"):
        other.fetch(other.path("0" * 64, "png"))
    one.close()
    other.close()


def test_bytes_damaged_in_the_store_are_refused(seaweed_server: Seaweed, tmp_path: Path) -> None:
    bucket = seaweed_server.new_bucket()
    store = make_store(seaweed_server, bucket, tmp_path / "a")
    sha, _ = store.put(PNG + b"good", "png")
    seaweed_server.client().put_object(Bucket=bucket, Key=f"site/{image_key(sha, 'png')}",
                                       Body=b"tampered")
    reader = make_store(seaweed_server, bucket, tmp_path / "b")
    with pytest.raises(PhotoMissing, match="damaged"):
        reader.fetch(reader.path(sha, "png"))
    assert not reader.path(sha, "png").exists()       # nothing unchecked is kept


def test_an_upload_whose_bytes_differ_is_never_confirmed(seaweed_server: Seaweed,
                                                         tmp_path: Path) -> None:
    """The server checks the SHA-256 the station sends: bytes that differ (damaged on the way)
    are refused, tried again, and never reported as saved."""
    bucket = seaweed_server.new_bucket()
    store = make_store(seaweed_server, bucket, tmp_path, wait_s=1.0)
    with pytest.raises(ImageStoreUnavailable):
        store._put_key("images/x.png", b"these bytes", "0" * 64, "save a photo")
    assert seaweed_server.keys(bucket) == []


def test_wrong_credentials_and_a_missing_bucket_are_refused_at_once(
        seaweed_server: Seaweed, tmp_path: Path) -> None:
    bucket = seaweed_server.new_bucket()
    wrong = make_store(seaweed_server, bucket, tmp_path, secret="not-the-secret", wait_s=30)
    started = time.monotonic()
    with pytest.raises(ImageStoreRefused) as e:
        wrong.put(PNG + b"x", "png")
    assert time.monotonic() - started < 5        # no point waiting: it will not get better
    assert "access key" in str(e.value) and "the test's settings" in str(e.value)
    assert "not-the-secret" not in str(e.value)
    missing = make_store(seaweed_server, "no-such-bucket-here", tmp_path)
    with pytest.raises(ImageStoreRefused, match="does not exist"):
        missing.check()


def test_an_unreachable_store_is_waited_for_within_the_bound(seaweed_server: Seaweed,
                                                             tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    store = make_store(seaweed_server, "whatever", tmp_path, endpoint=nobody, wait_s=2.0,
                       read_wait_s=1.0)
    started = time.monotonic()
    with pytest.raises(ImageStoreUnavailable) as e:
        store.put(PNG + b"x", "png")
    took = time.monotonic() - started
    assert 1.0 <= took < 8       # pauses 0.2, 0.4, 0.8 s: it stops when the next would pass 2 s
    assert nobody in str(e.value) and "Nothing that needed it was saved" in str(e.value)
    with pytest.raises(ImageStoreUnavailable):
        store.fetch(store.path("1" * 64, "png"))


@pytest.mark.slow
def test_a_store_restarted_during_a_write_is_waited_for(own_seaweed: Seaweed,
                                                        tmp_path: Path) -> None:
    bucket = own_seaweed.new_bucket()
    store = make_store(own_seaweed, bucket, tmp_path, wait_s=120.0)
    store.put(PNG + b"before", "png")
    own_seaweed.kill()
    restarter = threading.Timer(1.0, own_seaweed.start)
    restarter.start()
    started = time.monotonic()
    sha, _ = store.put(PNG + b"during the outage", "png")
    restarter.join()
    assert time.monotonic() - started >= 1.0
    assert f"site/{image_key(sha, 'png')}" in own_seaweed.keys(bucket)


def test_the_listing_sweep_keeps_young_and_referenced_objects(seaweed_server: Seaweed,
                                                              tmp_path: Path) -> None:
    bucket = seaweed_server.new_bucket()
    store = make_store(seaweed_server, bucket, tmp_path)
    shas = [store.put(PNG + f"photo {i}".encode(), "png")[0] for i in range(3)]
    keep = {shas[0]}
    report = store.sweep(lambda batch: keep & set(batch), grace_s=3600)
    assert report.removed_orphans == 0          # all younger than the grace period
    report = store.sweep(lambda batch: keep & set(batch), grace_s=3600,
                         now=time.time() + 7200)
    assert report.removed_orphans == 2 and report.kept == 1
    assert sorted(s for s, _ in store.iter_files()) == [shas[0]]
    # Only the shards asked for are listed.
    other = store.put(PNG + b"elsewhere", "png")[0]
    shard = next(f"{i:02x}" for i in range(256) if f"{i:02x}" != other[:2])
    report = store.sweep(lambda batch: set(), grace_s=0, now=time.time() + 10, shards=[shard])
    assert other in {s for s, _ in store.iter_files()}


def test_a_sweep_that_would_empty_the_store_holds_back(seaweed_server: Seaweed,
                                                       tmp_path: Path) -> None:
    bucket = seaweed_server.new_bucket()
    store = make_store(seaweed_server, bucket, tmp_path)
    store.put_many([(PNG + f"photo {i}".encode(), "png") for i in range(60)])
    report = store.sweep(lambda batch: set(), grace_s=0, now=time.time() + 10)
    assert report.held == 60 and report.removed_orphans == 0 and report.total == 60
    assert "main.py sweep --confirm" in report.message and "s3://" in report.message
    report = store.sweep(lambda batch: set(), grace_s=0, now=time.time() + 10, max_share=None)
    assert report.removed_orphans == 60 and list(store.iter_files()) == []
