"""The OPC UA server inside the station (asyncua), for PLCs and SCADA: the node set of
``line.plc.opcua_nodes``, the station's accounts for sign-in, encryption when the settings ask.

The server runs its own asyncio event loop in its own thread. PLC requests (the methods) become
controller requests whose futures the loop awaits; the controller's news (state, results,
counters) arrive as listener calls on the controller's threads and are written by ONE writer task
on the loop, in order, so that a PLC that sees ``LastResult.Sequence`` change reads that can's
complete result.

A PLC connection is followed from its session's sign-in to the end of its connection (asyncua
handles each connection in one task): when it ends while the can it triggered is open, the can
is ended as incomplete (REVIEW, with the reason).

Threading rule: ``start``/``stop`` from one owner thread; the listener methods from any thread.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

from common.errors import PersonFacingError
from line.config import OpcUaConfig
from line.errors import LineConfigInvalid, LineError, RequestRefused
from line.events import CanReport, Counters, LineStatus, ListenerBase
from line.plc import opcua_nodes as nodes
from line.plc.opcua_security import APP_URI, ensure_certificate, policies, station_users

log = logging.getLogger(__name__)

_STATUS = {"unknown-product": "BadNotFound", "no-product": "BadInvalidState",
           "wrong-step": "BadInvalidState", "error": "BadInvalidState", "preparing": "BadInvalidState",
           "camera-lost": "BadDeviceFailure", "camera-failed": "BadDeviceFailure",
           "no-model": "BadConfigurationError"}


class OpcUaServer(ListenerBase):
    def __init__(self, controller: Any, station: Any, config: OpcUaConfig, certificate_dir: Path,
                 name: str = "Can inspection station") -> None:
        self._controller, self._station, self._config = controller, station, config
        self._cert_dir, self._name = Path(certificate_dir), name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._writes: asyncio.Queue | None = None
        self._stopping: asyncio.Event | None = None
        self._vars: dict[str, tuple[Any, Any]] = {}
        self._sessions: dict[asyncio.Task, str] = {}
        self._sequence = 0
        self.namespace_index = 0

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self._config.host in ("0.0.0.0", "") else self._config.host
        return f"opc.tcp://{host}:{self._config.port}/can-station/"

    def start(self, timeout_s: float = 60.0) -> None:
        """Start serving; raises ``LineError`` if the server cannot start (port taken...)."""
        self._thread = threading.Thread(target=self._main, name="line-opcua", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise LineError(f"The OPC UA server did not start within {timeout_s:.0f} s.")
        if self._error is not None:
            raise LineError(f"The OPC UA server could not start on port {self._config.port}: "
                            f"{self._error}") from self._error
        self._controller.add_listener(self)
        log.info("OPC UA server at %s (security: %s)", self.endpoint, self._config.security)

    def stop(self) -> None:
        self._controller.remove_listener(self)
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=15)

    # -- listener (controller threads) -----------------------------------------------------
    def line_status(self, status: LineStatus) -> None:
        self._post(nodes.status_values(status))

    def can_published(self, report: CanReport, counters: Counters) -> None:
        self._sequence += 1      # listener calls come in order, under the controller's lock
        self._post(nodes.result_values(report, self._sequence) + nodes.counter_values(counters))

    def can_recorded(self, report: CanReport, counters: Counters) -> None:
        values = nodes.counter_values(counters)
        if report.inspection_id is not None:
            values.append(("LastResult.InspectionId", report.inspection_id))
        self._post(values, only_if_can=report.can_id)

    def _post(self, values: list[tuple[str, Any]], only_if_can: str | None = None) -> None:
        loop, queue = self._loop, self._writes
        if loop is not None and queue is not None and not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, (values, only_if_can))

    # -- the server's thread ---------------------------------------------------------------
    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), or logged
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("the OPC UA server stopped with an error")
        finally:
            loop.close()

    async def _serve(self) -> None:
        from asyncua import Server, ua

        self._writes, self._stopping = asyncio.Queue(), asyncio.Event()
        server = Server(user_manager=station_users(self._station, self._session_started))
        await server.init()
        server.set_endpoint(f"opc.tcp://{self._config.host}:{self._config.port}/can-station/")
        server.set_server_name(self._name)
        await server.set_application_uri(APP_URI)
        server.set_security_policy(policies(self._config.security))
        server.set_identity_tokens([ua.UserNameIdentityToken])
        if self._config.security != "none":
            cert, key = await ensure_certificate(self._cert_dir)
            await server.load_certificate(str(cert))
            await server.load_private_key(str(key))
        self.namespace_index = ns = await server.register_namespace(nodes.NAMESPACE)
        self._vars = await nodes.build(server, ns, {"SelectProduct": self._select,
                                                    "Trigger": self._trigger, "Reset": self._reset})
        self._server = server
        async with server:
            writer = asyncio.create_task(self._writer(server))
            self._ready.set()
            await self._stopping.wait()
            writer.cancel()

    async def _writer(self, server: Any) -> None:
        from asyncua import ua

        last_can = ""
        queue = self._writes
        assert queue is not None   # made in _serve before this task starts
        while True:
            values, only_if_can = await queue.get()
            if only_if_can is not None and only_if_can != last_can:
                values = [(k, v) for k, v in values if not k.startswith("LastResult.")]
            for key, value in values:
                if key == "LastResult.CanId":
                    last_can = value
                nodeid, vtype = self._vars[key]
                await server.write_attribute_value(nodeid, ua.DataValue(ua.Variant(value, vtype)))

    def _session_started(self, username: str) -> None:
        task = asyncio.current_task()
        if task is None or task in self._sessions:
            return
        self._sessions[task] = username
        self._controller.plc_connected(task, f"OPC UA user {username}")
        task.add_done_callback(self._session_ended)

    def _session_ended(self, task: asyncio.Task) -> None:
        self._sessions.pop(task, None)
        self._controller.plc_disconnected(task)

    # -- methods (on the loop, in the calling connection's task) ---------------------------
    async def _select(self, parent: Any, sku: Any) -> Any:
        from asyncua import ua

        async def run() -> list:
            status = await asyncio.wrap_future(self._controller.select_product(str(sku.Value)))
            return [ua.Variant(status.steps_per_can, ua.VariantType.UInt16)]
        return await self._call("SelectProduct", run)

    async def _trigger(self, parent: Any, step: Any) -> Any:
        from asyncua import ua

        arrived = time.monotonic()
        owner = asyncio.current_task()

        async def run() -> list:
            future = self._controller.trigger(int(step.Value or 0), owner, arrived)
            done = await asyncio.wrap_future(future)
            return [ua.Variant(done.can_id, ua.VariantType.String),
                    ua.Variant(done.step, ua.VariantType.UInt16),
                    ua.Variant(done.steps_per_can, ua.VariantType.UInt16)]
        return await self._call("Trigger", run)

    async def _reset(self, parent: Any) -> Any:
        async def run() -> list:
            await asyncio.wrap_future(self._controller.reset())
            return []
        return await self._call("Reset", run)

    async def _call(self, name: str, run: Any) -> Any:
        from asyncua import ua

        try:
            return await run()
        except PersonFacingError as exc:
            code = _STATUS.get(exc.code, "BadInvalidState") if isinstance(exc, RequestRefused) \
                else ("BadConfigurationError" if isinstance(exc, LineConfigInvalid)
                      else "BadUnexpectedError")
            message = str(exc)
        except Exception as exc:  # the PLC gets a status, the log the traceback
            log.exception("OPC UA method %s failed", name)
            code, message = "BadUnexpectedError", f"{name} failed ({type(exc).__name__}); see the log."
        log.info("OPC UA %s refused: %s", name, message)
        nodeid, vtype = self._vars["LastError"]
        await self._server.write_attribute_value(nodeid, ua.DataValue(ua.Variant(message, vtype)))
        result = ua.CallMethodResult()
        result.StatusCode = ua.StatusCode(getattr(ua.StatusCodes, code))
        return result
