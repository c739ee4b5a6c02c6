"""Free loopback ports for the servers the tests start (PostgreSQL, SeaweedFS, OPC UA, Modbus).

A port is chosen by binding port 0 and closing the socket; the server binds it a moment later.
Under pytest-xdist several workers do this at once, so each worker takes only ports of its own
share (``(port >> 1) % workers == its index``; not ``port % workers``: Linux hands out odd ports to
``bind(("", 0))``, even ones to ``connect``): two workers never pick the same port, and a port a test
keeps free on purpose ("nobody listens here") is never taken by another worker's server.
A process can still take the port in between (anything else on the machine): the servers that
can (SeaweedFS, PostgreSQL) retry on "address already in use".
"""
from __future__ import annotations

import os
import socket

_TRIES = 2000


def _share() -> tuple[int, int]:
    """(this worker's index, number of workers); (0, 1) outside pytest-xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not name.startswith("gw") or count <= 1:
        return 0, 1
    return int(name[2:]) % count, count


def free_ports(n: int) -> list[int]:
    """``n`` different loopback ports, free now, all of this worker's share (each socket is held
    until all are chosen, so they differ)."""
    index, count = _share()
    held: list[socket.socket] = []
    try:
        for _ in range(_TRIES):
            if len(held) == n:
                break
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            if (sock.getsockname()[1] >> 1) % count == index:
                held.append(sock)
            else:
                sock.close()
        if len(held) < n:
            raise OSError(f"no free loopback port of worker {index} of {count} "
                          f"after {_TRIES} tries")
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def free_port() -> int:
    """One loopback port, free now, of this worker's share."""
    return free_ports(1)[0]
