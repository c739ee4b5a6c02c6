"""The deadline of each can: whoever comes first, the verdict or the deadline, publishes.

``arm(key, at, on_miss)`` starts the clock of a can; the inspector calls ``claim(key)`` when its
verdict is ready: True means it was in time and the inspector publishes; False means the deadline
fired first (``on_miss(key)`` ran on this watch's thread and published REJECT), and the late
verdict is only recorded and logged. The lock makes the two exclusive, so a can is published
exactly once.

Threading rule: any thread may arm and claim; ``on_miss`` runs on the watch's own thread.
"""
from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class DeadlineWatch:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str]] = []
        self._armed: dict[str, Callable[[str], None]] = {}
        self._seq = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="line-deadlines", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def arm(self, key: str, at: float, on_miss: Callable[[str], None]) -> None:
        with self._cond:
            self._armed[key] = on_miss
            self._seq += 1
            heapq.heappush(self._heap, (at, self._seq, key))
            self._cond.notify_all()

    def claim(self, key: str) -> bool:
        """True: the verdict is in time (the deadline is disarmed). False: it fired already."""
        with self._cond:
            return self._armed.pop(key, None) is not None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    # drop entries that were claimed meanwhile
                    while self._heap and self._heap[0][2] not in self._armed:
                        heapq.heappop(self._heap)
                    wait = None if not self._heap else self._heap[0][0] - self._clock()
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, key = heapq.heappop(self._heap)
                on_miss = self._armed.pop(key)
            try:
                on_miss(key)
            except Exception:  # the watch must keep watching the next cans
                log.exception("publishing a missed deadline failed")
