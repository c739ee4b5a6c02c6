"""A throw-away PostgreSQL cluster for the tests: initdb in a temporary folder, a free port,
trust authentication, stopped and removed at the end. Used by tests/db/conftest.py, the fault
tests (a server stopped and restarted, frozen and thawed) and benchmarks/bench_faults.py."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.ports import free_port


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


class Cluster:
    def __init__(self) -> None:
        self.initdb = find_bin("initdb")
        self.pg_ctl = find_bin("pg_ctl")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="station-pg-"))
        self.data = self.root / "data"
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
        for attempt in range(4):
            try:
                self.pg_start()
                break
            except ClusterError as exc:   # the port was taken between choosing and binding it
                if "already in use" not in str(exc) or attempt == 3:
                    raise
                self.port = free_port()
        import psycopg
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE station_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/station_test"

    def pg_stop(self) -> None:
        """Stop the server (fast shutdown) and keep its data, to start it again."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def pg_start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", opts, "-w", "-t", "60", "start")

    def processes(self) -> list[int]:
        """The postmaster and every process it started (the backends serving connections)."""
        main = int((self.data / "postmaster.pid").read_text().split()[0])
        found = [main]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == main:
                    found.append(int(entry))
        return found

    def freeze(self) -> None:
        """A server that stops answering without closing anything (SIGSTOP to all of it)."""
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
