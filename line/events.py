"""What the line tells the PLC servers, the GUI and the log: its state, each can's published
result, the counters, and events worth a line in the log (a camera lost and back).

All values are frozen and hold plain data, so they cross threads freely. Listeners are called on
the controller's threads: they must return quickly and hand the data to their own thread (the
OPC UA server schedules a write on its event loop, the GUI emits a queued signal).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from core.results import Outcome

MISSING = "missing"           # a side's outcome when it was not captured

VERDICT_CODES = {Outcome.PASS: 1, Outcome.REVIEW: 2, Outcome.REJECT: 3}   # 0 = no result


class LineState(str, Enum):
    """After the OPC UA Machine Vision companion specification's states, kept small."""

    IDLE = "idle"             # no product selected
    READY = "ready"           # product, model and cameras ready; waiting for a trigger
    BUSY = "busy"             # a can is being captured or inspected
    ERROR = "error"           # something needs attention (message); triggers are refused

    @property
    def code(self) -> int:
        return {"idle": 0, "ready": 1, "busy": 2, "error": 3}[self.value]


@dataclass(frozen=True)
class LineStatus:
    state: LineState
    message: str = ""                     # why ERROR, or what happened last
    product_sku: str = ""
    steps_per_can: int = 0
    step: int = 0                         # steps captured of the open can (0: none open)
    can_id: str = ""                      # the open can's capture key
    plc: tuple[str, ...] = ()             # connected PLC sessions, e.g. "opcua plc1@127.0.0.1"
    lost_cameras: tuple[str, ...] = ()


@dataclass(frozen=True)
class Counters:
    passed: int = 0
    review: int = 0
    rejected: int = 0
    deadline_missed: int = 0
    recorded: int = 0
    record_failed: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.review + self.rejected


@dataclass(frozen=True)
class CanReport:
    """One can's result as published to the PLC (and later recorded)."""

    can_id: str                           # the capture key (uuid4 hex)
    number: int                           # 1, 2, ... since the controller started
    sku: str
    verdict: Outcome
    side_names: tuple[str, ...]
    side_outcomes: tuple[str, ...]        # "pass" | "review" | "reject" | "missing"
    side_scores: tuple[float, ...]        # normalised (0.5 = threshold); NaN when missing
    reason: str                           # why the verdict is worse than the sides, or ""
    published: datetime                   # aware, UTC
    trigger_to_verdict_ms: float          # from the last trigger's arrival to publication
    deadline_missed: bool = False
    inspect_ms: float = 0.0               # of which the model's inspection (0: not inspected)
    inspection_id: int | None = None      # set once recorded
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def verdict_code(self) -> int:
        return VERDICT_CODES[self.verdict]


@dataclass(frozen=True)
class StepDone:
    """A trigger's answer: the pictures of this step are taken (the fixture may move on)."""

    can_id: str
    number: int
    step: int
    steps_per_can: int
    sides: tuple[str, ...]


class LineListener(Protocol):
    def line_status(self, status: LineStatus) -> None: ...
    def can_published(self, report: CanReport, counters: Counters) -> None: ...
    def can_recorded(self, report: CanReport, counters: Counters) -> None: ...
    def line_event(self, message: str, level: int) -> None: ...


class ListenerBase:
    """Does nothing; listeners override what they need."""

    def line_status(self, status: LineStatus) -> None:
        pass

    def can_published(self, report: CanReport, counters: Counters) -> None:
        pass

    def can_recorded(self, report: CanReport, counters: Counters) -> None:
        pass

    def line_event(self, message: str, level: int = logging.INFO) -> None:
        pass
