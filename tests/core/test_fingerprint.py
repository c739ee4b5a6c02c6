"""Image fingerprints: a file and its bytes match, a re-encoded copy does not, records stay compact."""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from core.images.fingerprint import DIGEST_BYTES, RECORD_KEY, count_seen, image_digest, pack, trained_on_record, unpack


def test_a_file_its_bytes_and_the_file_stores_hash_agree(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), img)
    data = path.read_bytes()
    assert image_digest(path) == image_digest(str(path)) == image_digest(data)
    assert image_digest(data).hex() == hashlib.sha256(data).hexdigest()[:2 * DIGEST_BYTES]
    _, jpeg = cv2.imencode(".jpg", img)
    assert image_digest(jpeg.tobytes()) != image_digest(data)
    assert image_digest(img) != image_digest(img[:, :, ::-1].copy())


def test_records_round_trip_and_count_what_was_seen():
    sources = [bytes([i]) * 10 for i in range(5)]
    record = trained_on_record(sources + sources[:2])        # repeats count once
    assert record["count"] == 5 and len(unpack(record["digests"])) == 5
    trained_on = {"n_good": 3, RECORD_KEY: record}
    new = [image_digest(b"new"), image_digest(sources[0]), image_digest(sources[4])]
    assert count_seen(trained_on, new) == 2
    assert count_seen({"n_good": 3}, new) is None                       # an older model
    assert count_seen({RECORD_KEY: {"digests": "not base64!"}}, new) is None
    assert unpack(pack([])) == set()
