"""Time the Statistics panel's worker function (``gui.stats_panel.load_stats``) on a thread, as
the panel runs it, while the main thread ticks every 5 ms as an event loop would: the time of each
step, the whole, and the longest the main thread had to wait (its longest gap between ticks less
the 5 ms sleep)."""
from __future__ import annotations

import threading
import time
from typing import Any

from core.progress import Progress
from db import GalleryFilter

STEPS = ("summary", "per day", "per product", "per side", "per operator", "per hour (cans)",
         "per hour (sides)")


def stats_in_worker(stats: Any, actor: Any, f: GalleryFilter
                    ) -> tuple[list[tuple[str, float]], float, float, str]:
    """(steps with their ms, total ms, the main thread's longest wait in ms, the error that
    ended the worker or "")."""
    from gui.stats_panel import load_stats

    marks: list[float] = []
    progress = Progress(lambda done, total, message: marks.append(time.perf_counter()))
    failure: list[BaseException] = []

    def work() -> None:
        try:
            load_stats(progress, stats, actor, f)
        except BaseException as exc:  # noqa: BLE001 - reported on the main thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="stats-worker")
    t0 = last = time.perf_counter()
    stall = 0.0
    worker.start()
    while worker.is_alive():
        time.sleep(0.005)
        now = time.perf_counter()
        stall = max(stall, (now - last) * 1000 - 5)
        last = now
    total = (time.perf_counter() - t0) * 1000
    steps, prev = [], t0
    for name, mark in zip(STEPS, marks):
        steps.append((name, (mark - prev) * 1000))
        prev = mark
    if failure:
        failed = STEPS[len(marks)] if len(marks) < len(STEPS) else "?"
        steps.append((f"{failed}: FAILED ({type(failure[0]).__name__})",
                      total - (prev - t0) * 1000))
    return steps, total, stall, str(failure[0]) if failure else ""
