"""A TCP proxy on loopback between the station and a real PostgreSQL server, able to drop the
connection right after the server answered a COMMIT (the "ambiguous commit": the server
committed, the client never hears it) and to refuse new connections for a while.

Used by the fault tests and benchmarks/bench_faults.py. Threads: one acceptor, two pumps per
connection; ``close()`` ends them all.
"""
from __future__ import annotations

import socket
import threading


class Proxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.drop_after_commit = 0      # how many of the next COMMITs to cut off after they ran
        self.refusing = False           # new connections are closed at once
        self.dropped = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def url(self, url: str) -> str:
        """``url`` (a postgresql+psycopg URL on the target port) through this proxy."""
        return url.replace(f":{self.target[1]}/", f":{self.port}/")

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        with self._lock:
            for s in self._socks:
                _close(s)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._socks += [client, server]
            state = {"commit_sent": False}
            threading.Thread(target=self._pump, args=(client, server, state, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, state, False),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, state: dict, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream and b"COMMIT\x00" in data and self.drop_after_commit > 0:
                    with self._lock:
                        if self.drop_after_commit > 0:
                            self.drop_after_commit -= 1
                            state["commit_sent"] = True
                elif not upstream and state["commit_sent"] and b"Z\x00\x00\x00\x05" in data:
                    # The server committed and says it is ready again: the client never hears.
                    self.dropped += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
