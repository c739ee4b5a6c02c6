"""A throw-away PostgreSQL cluster for the tests: initdb in a temporary folder, a free port,
trust authentication, stopped and removed at the end. Used by tests/db/conftest.py."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterError(RuntimeError):
    pass


def find_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if candidates:
        return candidates[-1]
    raise ClusterError(f"{name} not found on PATH nor in /usr/lib/postgresql/*/bin "
                       "(install the PostgreSQL server: apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        self.initdb = find_bin("initdb")
        self.pg_ctl = find_bin("pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="station-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the postgres system user, in a
            # folder it owns (pytest's own temporary folders are private to root).
            if shutil.which("runuser") is None:
                raise ClusterError("running as root but runuser is missing")
            try:
                import pwd
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterError("running as root and there is no 'postgres' system user") \
                    from None
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.root, 0o700)

    def _run(self, *cmd: str, timeout: float = 120) -> None:
        proc = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                               f"{proc.stderr.strip() or proc.stdout.strip()}\n{tail}")

    def start(self) -> str:
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        # Durability is pointless for a throw-away test server; speed is not.
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", opts, "-w", "-t", "60", "start")
        import psycopg
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE station_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/station_test"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
