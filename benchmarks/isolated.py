"""Run one case at a time in a separate worker process, so that a hang, a crash or runaway memory
is observed and counted instead of taking the benchmark down.

``Isolated(func, timeout_s, mem_limit_mb)`` starts a spawned worker that calls ``func(payload)``
for each ``run(payload)``; the answer is an ``Outcome``:

- ``ok``: ``func`` returned (``detail`` is ``repr`` of its result, shortened);
- ``raised``: it raised; ``error_type`` is ``module.QualName`` of the exception, ``detail`` its text;
- ``hang``: no answer within ``timeout_s`` (the worker is killed and a fresh one started);
- ``crash``: the worker died (a segfault, an abort, ``os._exit``);
- ``memory``: the worker's resident memory passed ``mem_limit_mb`` (killed, restarted).

The worker is reused between cases (imports such as torch are paid once). ``func`` must be a
module-level function (it is sent to the worker by name). Used by ``faults_engine`` and
``bench_faults``. Not thread-safe: one ``run`` at a time per ``Isolated``.
"""
from __future__ import annotations

import faulthandler
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Outcome:
    kind: str                 # "ok" | "raised" | "hang" | "crash" | "memory"
    error_type: str = ""
    detail: str = ""


def _worker(conn, func: Callable[[Any], Any], init: Callable[[], None] | None) -> None:
    faulthandler.enable()
    if init is not None:
        init()
    conn.send(("ready", "", ""))
    while True:
        try:
            payload = conn.recv()
        except EOFError:
            return
        try:
            result = func(payload)
            conn.send(("ok", "", repr(result)[:200]))
        except BaseException as exc:  # noqa: BLE001 - counting every type is the point
            kind = type(exc)
            conn.send(("raised", f"{kind.__module__}.{kind.__qualname__}", str(exc)[:300]))


class Isolated:
    def __init__(self, func: Callable[[Any], Any], timeout_s: float = 10.0, mem_limit_mb: int = 2048,
                 init: Callable[[], None] | None = None, start_timeout_s: float = 120.0) -> None:
        self.func, self.init = func, init
        self.timeout_s, self.mem_limit = timeout_s, mem_limit_mb * 1024 * 1024
        self.start_timeout_s = start_timeout_s
        self.peak_rss = 0
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None

    def __enter__(self) -> Isolated:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_worker, args=(child, self.func, self.init), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        try:
            if not parent.poll(self.start_timeout_s):
                raise EOFError
            parent.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode
            self._kill()
            raise RuntimeError(f"the worker process did not start (exit code {code}); a script that "
                               "uses Isolated needs an `if __name__ == '__main__':` guard") from None

    def _rss(self) -> int:
        try:
            with open(f"/proc/{self._proc.pid}/statm") as fh:
                return int(fh.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None and self._proc.pid is not None:
            self._proc.join(2)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(5)
        self._proc = self._conn = None

    def run(self, payload: Any) -> Outcome:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        try:
            self._conn.send(payload)
        except (BrokenPipeError, OSError):
            self._kill()
            return Outcome("crash", detail="the worker was gone before the case was sent")
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                if self._conn.poll(0.05):
                    kind, error_type, detail = self._conn.recv()
                    self.peak_rss = max(self.peak_rss, self._rss())
                    return Outcome(kind, error_type, detail)
            except (EOFError, OSError):
                code = self._proc.exitcode if self._proc is not None else None
                self._kill()
                return Outcome("crash", detail=f"the worker died (exit code {code})")
            rss = self._rss()
            self.peak_rss = max(self.peak_rss, rss)
            if rss > self.mem_limit:
                self._kill()
                return Outcome("memory", detail=f"resident memory passed {self.mem_limit >> 20} MB")
            if not self._proc.is_alive():
                code = self._proc.exitcode
                self._kill()
                return Outcome("crash", detail=f"the worker died (exit code {code})")
            if time.monotonic() > deadline:
                self._kill()
                return Outcome("hang", detail=f"no answer within {self.timeout_s:g} s")
