"""The Modbus TCP server of the station (pymodbus 3.10-3.12), for simple PLCs: the register map and
handshake of ``line.plc.modbus_map`` (trigger -> busy -> result ready with the verdict code and the
reject coil -> acknowledge).

The PLC's writes become controller requests; their answers (and the controller's news) are
written back into the registers from the controller's threads, under the registers' lock. Results
wait in a queue until the PLC acknowledges the one shown, so a PLC that starts the next can
before it read the last verdict loses nothing.

Modbus has no sign-in and no encryption: bind it to the machine network's interface only, or use
OPC UA. Connections are counted; when the last one closes while the can it triggered is open, the
can is ended as incomplete (REVIEW, with the reason).

Threading rule: ``start``/``stop`` from one owner thread; the register store and the listener
methods from any thread.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from pymodbus.datastore import ModbusServerContext
from pymodbus.datastore.context import ModbusBaseDeviceContext

from common.errors import PersonFacingError
from line.config import ModbusConfig
from line.errors import LineConfigInvalid, LineError, RequestRefused
from line.events import CanReport, Counters, LineStatus, ListenerBase
from line.plc.modbus_map import ERROR_CODES, REJECT_COIL, SIZE, WIDE, addr, side_mask, writable_by_plc

ILLEGAL_FUNCTION: Any
ILLEGAL_ADDRESS: Any
try:   # pymodbus 3.11+: errors are ExcCodes; 3.10 takes the plain exception code numbers
    from pymodbus.constants import ExcCodes
    ILLEGAL_FUNCTION, ILLEGAL_ADDRESS = ExcCodes.ILLEGAL_FUNCTION, ExcCodes.ILLEGAL_ADDRESS
except ImportError:  # pragma: no cover - exercised with pymodbus 3.10
    ILLEGAL_FUNCTION, ILLEGAL_ADDRESS = 1, 2

log = logging.getLogger(__name__)

_HOLDING = (3, 6, 16, 22, 23)
_COILS = (1, 5, 15)


class StationRegisters(ModbusBaseDeviceContext):
    """The register store; ``on_write(address, value)`` is called for each PLC write."""

    def __init__(self, on_write: Callable[[int, int], None]) -> None:
        self._on_write = on_write
        self._hr = [0] * SIZE
        self._coils = [False] * 8
        self.lock = threading.RLock()   # RLock: a result is shown whole, under one hold

    def reset(self) -> None:
        with self.lock:
            self._hr = [0] * SIZE
            self._coils = [False] * 8

    def getValues(self, func_code: int, address: int, count: int = 1) -> Any:  # noqa: N802
        with self.lock:
            store = self._hr if func_code in _HOLDING else self._coils if func_code in _COILS else None
            if store is None:
                return ILLEGAL_FUNCTION
            if address < 0 or address + count > len(store):
                return ILLEGAL_ADDRESS
            return list(store[address:address + count])

    def setValues(self, func_code: int, address: int, values: Any) -> Any:  # noqa: N802
        if func_code not in _HOLDING:
            return ILLEGAL_ADDRESS     # the coil is the station's output
        if not all(writable_by_plc(address + i) for i in range(len(values))):
            return ILLEGAL_ADDRESS
        with self.lock:
            for i, v in enumerate(values):
                self._hr[address + i] = int(v)
        for i, v in enumerate(values):
            self._on_write(address + i, int(v))
        return None

    def set(self, **values: int) -> None:
        """The station's writes: names of ``REGISTERS``; wide counters take two registers."""
        with self.lock:
            for name, value in values.items():
                a = addr(name)
                if name in WIDE:
                    self._hr[a], self._hr[a + 1] = (value >> 16) & 0xFFFF, value & 0xFFFF
                else:
                    self._hr[a] = max(0, min(0xFFFF, int(value)))

    def get(self, name: str) -> int:
        with self.lock:
            return self._hr[addr(name)]

    def set_reject(self, on: bool) -> None:
        with self.lock:
            self._coils[REJECT_COIL] = on


class ModbusServer(ListenerBase):
    def __init__(self, controller: Any, config: ModbusConfig) -> None:
        self._controller, self._config = controller, config
        self.registers = StationRegisters(self._plc_wrote)
        self._codes = {sku: code for code, sku in config.products.items()}
        self._results: deque[CanReport] = deque()
        self._connections = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        self._thread = threading.Thread(target=self._main, name="line-modbus", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s) or self._error is not None:
            raise LineError(f"The Modbus TCP server could not start on port {self._config.port}: "
                            f"{self._error or 'timeout'}")
        self._controller.add_listener(self)
        log.info("Modbus TCP server on %s:%d", self._config.host, self._config.port)

    def stop(self) -> None:
        self._controller.remove_listener(self)
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=15)

    # -- the server's thread ---------------------------------------------------------------
    def _main(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), or logged
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("the Modbus TCP server stopped with an error")
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        from pymodbus.server import ModbusTcpServer

        self._stopping = asyncio.Event()
        context = ModbusServerContext(devices=self.registers, single=True)
        server = ModbusTcpServer(context, address=(self._config.host, self._config.port),
                                 trace_connect=self._traced)
        await server.serve_forever(background=True)
        self._ready.set()
        beat = 0
        try:
            while not self._stopping.is_set():
                beat = (beat + 1) & 0xFFFF
                self.registers.set(HEARTBEAT=beat)
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass
        finally:
            await server.shutdown()

    def _traced(self, connected: bool) -> None:
        self._connections += 1 if connected else -1
        if connected and self._connections == 1:
            self._controller.plc_connected(self, "Modbus TCP client")
        elif not connected and self._connections == 0:
            self._controller.plc_disconnected(self)

    # -- PLC writes (on the server's loop) -------------------------------------------------
    def _plc_wrote(self, address: int, value: int) -> None:
        if address == addr("PRODUCT_SELECT") and value:
            sku = self._config.products.get(value)
            if sku is None:
                self.registers.set(ERROR_CODE=ERROR_CODES["unknown-product"], PRODUCT_SELECT=0)
                return
            self._answer(self._controller.select_product(sku), "PRODUCT_SELECT")
        elif address == addr("TRIGGER") and value:
            future = self._controller.trigger(value, self, time.monotonic())
            self._answer(future, "TRIGGER",
                         lambda done: self.registers.set(STEP_DONE=done.step))
        elif address == addr("RESET") and value:
            self._answer(self._controller.reset(), "RESET")
        elif address == addr("ACK") and value:
            with self.registers.lock:
                if self._results:
                    self._results.popleft()
            self._show_result()
            self.registers.set(ACK=0)

    def _answer(self, future: Future, register: str, on_ok: Callable[[Any], None] | None = None
                ) -> None:
        def done(f: Future) -> None:
            exc = f.exception()
            if exc is None:
                if on_ok is not None:
                    on_ok(f.result())
                code = 0
            elif isinstance(exc, RequestRefused):
                code = ERROR_CODES.get(exc.code, ERROR_CODES["error"])
            elif isinstance(exc, LineConfigInvalid):
                code = ERROR_CODES["config"]
            else:
                code = ERROR_CODES["error" if isinstance(exc, PersonFacingError) else "internal"]
            if exc is not None:
                log.info("Modbus %s refused: %s", register, exc)
            self.registers.set(ERROR_CODE=code, **{register: 0})   # the register last
        future.add_done_callback(done)

    # -- listener (controller threads) -----------------------------------------------------
    def line_status(self, status: LineStatus) -> None:
        self.registers.set(STATE=status.state.code, STEPS_PER_CAN=status.steps_per_can,
                           ACTIVE_PRODUCT=self._codes.get(status.product_sku, 0))

    def can_published(self, report: CanReport, counters: Counters) -> None:
        with self.registers.lock:
            self._results.append(report)
        self._show_result()
        self.registers.set(PASSED=counters.passed, REVIEWED=counters.review,
                           REJECTED=counters.rejected, DEADLINE_MISSED=counters.deadline_missed)

    def _show_result(self) -> None:
        with self.registers.lock:
            self._show_result_locked()

    def _show_result_locked(self) -> None:
        report = self._results[0] if self._results else None
        if report is None:
            self.registers.set(RESULT_READY=0, VERDICT=0)
            self.registers.set_reject(False)
            return
        outcomes = report.side_outcomes
        self.registers.set(
            CAN_NUMBER=report.number & 0xFFFF, SIDES_REVIEW=side_mask(outcomes, "review"),
            SIDES_REJECT=side_mask(outcomes, "reject"), SIDES_MISSING=side_mask(outcomes, "missing"),
            TRIGGER_TO_VERDICT_MS=min(0xFFFF, round(report.trigger_to_verdict_ms)),
            VERDICT=report.verdict_code)
        self.registers.set_reject(report.verdict.value == "reject")
        self.registers.set(RESULT_READY=1)
