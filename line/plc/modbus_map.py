"""The Modbus TCP register map of the station (for PLCs that speak no OPC UA).

Holding registers (function 3 to read, 6 or 16 to write), addresses from 0; "PLC" = the PLC writes
it, everything else the station writes (a PLC write there is refused with ILLEGAL_ADDRESS). Coil 0
is the reject output (function 1 to read). 32-bit counters are two registers, high word first.
The table in docs/LINE.md is generated from ``REGISTERS`` (a test checks that they agree).

Handshake per can:
  1. PLC writes PRODUCT_SELECT = product code; waits until it reads 0 again and STATE = 1 (ready).
  2. Per step k = 1..STEPS_PER_CAN: PLC writes TRIGGER = k; waits until TRIGGER reads 0; then
     ERROR_CODE = 0 and STEP_DONE = k mean the pictures are taken (the fixture may move on).
  3. The station sets RESULT_READY = 1 with VERDICT (1 pass, 2 review, 3 reject) and the REJECT coil.
  4. PLC reads them and writes ACK = 1; the station clears RESULT_READY, VERDICT, the coil and ACK,
     and presents the next can's result if one is waiting.
"""
from __future__ import annotations

# name -> (address, PLC writes it, what it holds)
REGISTERS: dict[str, tuple[int, bool, str]] = {
    "HEARTBEAT": (0, False, "+1 every second while the station runs (wraps at 65535)"),
    "STATE": (1, False, "0 idle, 1 ready, 2 busy, 3 error"),
    "PRODUCT_SELECT": (2, True, "write a product code to select it; reads 0 once handled"),
    "ACTIVE_PRODUCT": (3, False, "code of the selected product (0 = none or not in the map)"),
    "STEPS_PER_CAN": (4, False, "triggers per can for the selected product"),
    "TRIGGER": (5, True, "write the step (1 starts a can); reads 0 once its pictures are taken"),
    "STEP_DONE": (6, False, "the step whose pictures were taken last (set before TRIGGER reads 0)"),
    "RESULT_READY": (7, False, "1: a verdict waits for ACK"),
    "VERDICT": (8, False, "0 none, 1 pass, 2 review, 3 reject"),
    "ACK": (9, True, "write 1 after reading the verdict"),
    "CAN_NUMBER": (10, False, "number of the can whose verdict is shown (low 16 bits)"),
    "SIDES_REVIEW": (11, False, "bit i set: side i+1 needs review"),
    "SIDES_REJECT": (12, False, "bit i set: side i+1 rejected"),
    "SIDES_MISSING": (13, False, "bit i set: side i+1 not captured"),
    "TRIGGER_TO_VERDICT_MS": (14, False, "last trigger to verdict, ms (65535 = longer)"),
    "ERROR_CODE": (15, False, "why the last request was refused (see ERROR_CODES); 0 = accepted"),
    "RESET": (16, True, "write 1: end an open can as incomplete, clear an error; reads 0 once done"),
    "PASSED": (20, False, "cans passed (32 bits: 20 high, 21 low)"),
    "REVIEWED": (22, False, "cans sent to review (32 bits)"),
    "REJECTED": (24, False, "cans rejected (32 bits)"),
    "DEADLINE_MISSED": (26, False, "cans rejected at their deadline (32 bits)"),
}
WIDE = {"PASSED", "REVIEWED", "REJECTED", "DEADLINE_MISSED"}
SIZE = 28
REJECT_COIL = 0

ERROR_CODES: dict[str, int] = {
    "": 0, "no-product": 1, "wrong-step": 2, "camera-lost": 3, "camera-failed": 4,
    "unknown-product": 5, "no-model": 6, "preparing": 7, "error": 8, "config": 9, "internal": 10,
}
ERROR_TEXT: dict[int, str] = {
    0: "accepted", 1: "no product selected", 2: "wrong step for the open can",
    3: "a camera is lost (reconnecting)", 4: "a picture failed (the can goes to review)",
    5: "unknown product code or SKU", 6: "the product has no active model",
    7: "the product is being prepared (model loading)", 8: "the station is in error (see its screen)",
    9: "line.json does not fit the product", 10: "an internal error (see the station's log)",
}


def addr(name: str) -> int:
    return REGISTERS[name][0]


def writable_by_plc(address: int) -> bool:
    return any(a == address and plc for a, plc, _ in REGISTERS.values())


def side_mask(outcomes: tuple[str, ...], wanted: str) -> int:
    return sum(1 << i for i, o in enumerate(outcomes[:16]) if o == wanted)
