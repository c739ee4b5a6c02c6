"""Recording the line's cans: ``app.recording`` turns the engine's result into the database's
record, as the GUI's save does, with the verdict the PLC was told and the can's capture key.

It runs on its own thread so that encoding seven photos and heatmaps and writing them never
delays the next can's verdict. The queue is bounded: if the disk or database cannot keep up, the
inspector waits (and the deadline, not a silent pass, protects the line).

Threading rule: ``put`` from any thread; ``on_done(job, inspection_id | None, error | None)`` runs
on the recorder thread.
"""
from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from app.recording import record_patiently, to_new_inspection
from line.inspector import RecordJob

log = logging.getLogger(__name__)

# How long one can's save is tried again while the photo store or the database is away. The
# queue fills meanwhile and the inspector waits, so the deadline (a reject, never a silent pass)
# protects the line; past this a can is reported as not recorded, for a person to look at.
GIVE_UP_S = 120.0


class Recorder:
    def __init__(self, station: Any, actor: Any, station_name: str,
                 on_done: Callable[[RecordJob, int | None, BaseException | None], None],
                 capacity: int = 8, give_up_s: float = GIVE_UP_S) -> None:
        self._station, self._actor, self._station_name = station, actor, station_name
        self._on_done = on_done
        self._give_up_s = give_up_s
        self._queue: queue.Queue[RecordJob | None] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._run, name="line-recorder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, job: RecordJob) -> None:
        self._queue.put(job)

    def stop(self) -> None:
        """Record what is queued, then end."""
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                inspection_id = self._record(job)
            except Exception as exc:  # reported, and the next can is recorded
                log.error("can %s (%s) was not recorded: %s", job.report.can_id,
                          job.verdict.value, exc, exc_info=not _person_facing(exc))
                self._on_done(job, None, exc)
            else:
                self._on_done(job, inspection_id, None)

    def _record(self, job: RecordJob) -> int:
        new = to_new_inspection(job.result, job.product_id, self._station_name)
        changes: dict[str, Any] = {"verdict": job.verdict.value}
        names = {f.name for f in dataclasses.fields(new)}
        if "capture_key" in names:   # the idempotency key of db's migration 0003
            changes["capture_key"] = job.report.can_id
        new = dataclasses.replace(new, **changes)
        return record_patiently(self._station, self._actor, new, self._give_up_s).id


def _person_facing(exc: BaseException) -> bool:
    from common.errors import PersonFacingError
    return isinstance(exc, PersonFacingError)
