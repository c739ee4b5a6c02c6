"""``--store-url s3://bucket/prefix`` with endpoint and credentials from the environment or a file:
parsing, precedence, clear refusals, and the credentials never written to a log, a message, a
``repr`` or the settings file, whatever happens (debug logging on, wrong secret, store away)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from db import Station
from db.errors import ImageStoreRefused, ImageStoreUnavailable, StationDataError
from db.stores import open_store
from db.stores.config import S3Access, S3Location, s3_access
from tests.db.conftest import FAST_HASHER
from tests.db.helpers import new_inspection, populate
from tests.db.pgcluster import free_port
from tests.db.seaweed import Seaweed


def test_store_urls() -> None:
    assert S3Location.parse("s3://site-photos/plant-a/line") == S3Location("site-photos",
                                                                            "plant-a/line")
    assert S3Location.parse("s3://bucket") == S3Location("bucket", "")
    assert S3Location("b-1", "x/y").key("images/a.png") == "x/y/images/a.png"
    assert str(S3Location.parse("s3://b-1/x//y/")) == "s3://b-1/x/y"
    for bad in ("http://host/bucket", "s3://", "s3://UPPER/x", "s3://b/../etc", "/tmp/photos",
                "s3://ab/x y"):
        with pytest.raises(ImageStoreRefused):
            S3Location.parse(bad)


def test_credentials_come_from_the_environment_then_a_file(tmp_path: Path) -> None:
    creds = tmp_path / "store.json"
    creds.write_text(json.dumps({"endpoint": "http://file:8333", "access_key": "FILEKEY",
                                 "secret_key": "file-secret", "region": "eu-1"}))
    env = {"STATION_STORE_CREDENTIALS": str(creds), "AWS_ACCESS_KEY_ID": "AWSKEY",
           "AWS_SECRET_ACCESS_KEY": "aws-secret"}
    got = s3_access(env)
    assert (got.endpoint, got.access_key, got.secret_key, got.region) == \
        ("http://file:8333", "FILEKEY", "file-secret", "eu-1")
    env |= {"STATION_STORE_ENDPOINT": "http://env:8333", "STATION_STORE_ACCESS_KEY": "ENVKEY",
            "STATION_STORE_SECRET_KEY": "env-secret"}
    got = s3_access(env)
    assert (got.endpoint, got.access_key, got.secret_key) == ("http://env:8333", "ENVKEY",
                                                              "env-secret")
    assert "ENVKEY" not in repr(got) and "env-secret" not in repr(got)
    assert s3_access({}).access_key is None            # boto3's own chain decides


def test_bad_credential_settings_are_refused_without_quoting_them(tmp_path: Path) -> None:
    with pytest.raises(ImageStoreRefused, match="half"):
        s3_access({"STATION_STORE_ACCESS_KEY": "ONLYKEY"})
    broken = tmp_path / "broken.json"
    broken.write_text('{"secret_key": "s3cr3t-in-a-broken-file",')
    with pytest.raises(ImageStoreRefused) as e:
        s3_access({"STATION_STORE_CREDENTIALS": str(broken)})
    assert "s3cr3t" not in str(e.value) and str(broken) in str(e.value)
    with pytest.raises(ImageStoreRefused, match="cannot be read"):
        s3_access({"STATION_STORE_CREDENTIALS": str(tmp_path / "missing.json")})
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"secret": "x"}))
    with pytest.raises(ImageStoreRefused, match="'secret'"):
        s3_access({"STATION_STORE_CREDENTIALS": str(odd)})


def test_credentials_never_reach_a_log_or_a_message(seaweed_server: Seaweed, pg_url: str,
                                                    tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Everything at DEBUG, the library loggers included: a station that works, one with a
    wrong secret, one whose store is away. Neither key appears anywhere."""
    bucket = seaweed_server.new_bucket()
    secrets = (seaweed_server.access_key, seaweed_server.secret_key, "WRONGKEY",
               "wrong-secret-value")
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    messages: list[str] = []
    creds = tmp_path / "store.json"
    creds.write_text(json.dumps({"endpoint": seaweed_server.endpoint,
                                 "access_key": seaweed_server.access_key,
                                 "secret_key": seaweed_server.secret_key}))
    station = Station.open(pg_url, tmp_path / "good", password_hasher=FAST_HASHER,
                           store=f"s3://{bucket}/site", store_credentials=creds,
                           station_name="line-1")
    try:
        world = populate(station)
        info = station.inspections.record(world.operator, new_inspection(world.product_id))
        station.files.read(info.sides[0].image_path)
        messages += [station.files.describe(), repr(station.files), str(station.url)]
    finally:
        station.close()
    wrong = {"STATION_STORE_ENDPOINT": seaweed_server.endpoint,
             "STATION_STORE_ACCESS_KEY": "WRONGKEY",
             "STATION_STORE_SECRET_KEY": "wrong-secret-value"}
    with pytest.raises(ImageStoreRefused) as refused:
        open_store(f"s3://{bucket}/site", tmp_path / "wrong", environ=wrong)
    away = wrong | {"STATION_STORE_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(ImageStoreUnavailable) as unavailable:
        open_store(f"s3://{bucket}/site", tmp_path / "away", environ=away, wait_s=1)
    messages += [str(refused.value), str(unavailable.value)]
    logged = caplog.text + "\n".join(messages)
    assert "s3://" in logged                          # the log did record the store...
    for secret in secrets:                            # ...and never a credential
        assert secret not in logged, secret
    assert all(isinstance(e, StationDataError) for e in (refused.value, unavailable.value))


def test_the_settings_keep_the_store_url_but_no_credential(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from core.settings import resolve_settings
    monkeypatch.setenv("STATION_STORE_SECRET_KEY", "never-in-settings")
    monkeypatch.setenv("STATION_STORE_ACCESS_KEY", "NEVERKEY")
    settings = resolve_settings(tmp_path, flags={"store_url": "s3://site/plant-a"})
    assert settings.store_url == "s3://site/plant-a"
    settings.save()
    text = (tmp_path / "settings.json").read_text()
    assert "s3://site/plant-a" in text
    assert "never-in-settings" not in text and "NEVERKEY" not in text


def test_access_repr_hides_keys() -> None:
    access = S3Access(endpoint="http://x", access_key="AKIDSHOWN", secret_key="hidden")
    assert "AKIDSHOWN" not in repr(access) and "hidden" not in repr(access)
