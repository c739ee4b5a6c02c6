"""PLC simulators: what a PLC does, in Python, over the real protocols (an asyncua client, a
pymodbus client). For commissioning a station without the PLC (``main.py line-sim``), for the
tests and for ``benchmarks/bench_line.py``. They follow docs/LINE.md's handshakes to the letter,
so they are also its executable description.

Threading rule: asyncio objects; use them in one event loop (``asyncio.run``).
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from line.plc.opcua_nodes import NAMESPACE, ROOT


class PlcTimeout(Exception):
    pass


class UaPlc:
    """``async with UaPlc(endpoint, user, password) as plc: await plc.run_can(7)``.

    ``security`` "sign" or "sign-encrypt" makes (once) a client certificate in ``cert_dir``."""

    def __init__(self, endpoint: str, user: str, password: str, security: str = "none",
                 cert_dir: str | Path | None = None, timeout_s: float = 10.0) -> None:
        from asyncua import Client

        self.client = Client(endpoint, timeout=timeout_s)
        self.client.set_user(user)
        self.client.set_password(password)
        self._security, self._cert_dir = security, cert_dir
        self.ns = 0
        self.last_sequence = 0

    async def __aenter__(self) -> UaPlc:
        if self._security != "none":
            await self._use_certificate()
        await self.client.connect()
        self.ns = await self.client.get_namespace_index(NAMESPACE)
        self.last_sequence = await self.read("LastResult.Sequence")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.disconnect()

    async def _use_certificate(self) -> None:
        from asyncua.crypto.cert_gen import setup_self_signed_certificate
        from cryptography.x509.oid import ExtendedKeyUsageOID

        folder = Path(self._cert_dir or ".")
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / "plc-cert.der", folder / "plc-key.pem"
        await setup_self_signed_certificate(key, cert, "urn:can-inspection-station:plc-sim",
                                            "localhost", [ExtendedKeyUsageOID.CLIENT_AUTH],
                                            {"commonName": "PLC simulator"})
        mode = "SignAndEncrypt" if self._security == "sign-encrypt" else "Sign"
        await self.client.set_security_string(f"Basic256Sha256,{mode},{cert},{key}")

    def node(self, name: str) -> Any:
        return self.client.get_node(f"ns={self.ns};s={ROOT}.{name}")

    async def read(self, name: str) -> Any:
        return await self.node(name).read_value()

    async def call(self, method: str, *args: Any) -> Any:
        root = self.client.get_node(f"ns={self.ns};s={ROOT}")
        return await root.call_method(self.node(method).nodeid, *args)

    async def select(self, sku: str, timeout_s: float = 120.0) -> int:
        """SelectProduct, then wait for ready; the steps per can."""
        await self.call("SelectProduct", sku)
        await self.wait_for("State", lambda v: v in ("ready", "error"), timeout_s)
        if await self.read("State") == "error":
            raise PlcTimeout(f"the station is in error: {await self.read('Message')}")
        return int(await self.read("StepsPerCan"))

    async def trigger(self, step: int) -> list:
        from asyncua import ua
        return await self.call("Trigger", ua.Variant(step, ua.VariantType.UInt16))

    async def wait_for(self, name: str, predicate: Any, timeout_s: float, poll_s: float = 0.002
                       ) -> Any:
        end = time.monotonic() + timeout_s
        while True:
            value = await self.read(name)
            if predicate(value):
                return value
            if time.monotonic() > end:
                raise PlcTimeout(f"{name} stayed {value!r} for {timeout_s} s")
            await asyncio.sleep(poll_s)

    async def wait_result(self, timeout_s: float = 30.0) -> dict:
        """The next published result (``LastResult.Sequence`` moved on), as a dict."""
        before = self.last_sequence
        self.last_sequence = await self.wait_for("LastResult.Sequence", lambda v: v != before,
                                                 timeout_s)
        return await self.result()

    async def result(self) -> dict:
        """The last published result; later ``wait_result`` calls wait for a newer one."""
        names = ("CanId", "CanNumber", "Product", "Verdict", "VerdictCode", "Reject", "SideNames",
                 "SideOutcomes", "SideScores", "Reason", "DeadlineMissed", "TriggerToVerdictMs",
                 "InspectMs", "Sequence")
        nodes = [self.node(f"LastResult.{n}") for n in names]
        values = dict(zip(names, await self.client.read_values(nodes)))
        self.last_sequence = max(self.last_sequence, values["Sequence"])
        return values

    async def run_can(self, steps: int, timeout_s: float = 30.0) -> tuple[dict, float]:
        """Trigger every step, then wait for the verdict; (result, ms from the last trigger's
        call to the verdict seen)."""
        for step in range(1, steps + 1):
            t0 = time.perf_counter()
            await self.trigger(step)
        result = await self.wait_result(timeout_s)
        return result, (time.perf_counter() - t0) * 1000.0


class ModbusPlc:
    """The Modbus handshake of docs/LINE.md with pymodbus' client."""

    def __init__(self, host: str, port: int, timeout_s: float = 5.0) -> None:
        from pymodbus.client import AsyncModbusTcpClient

        self.client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s)

    async def __aenter__(self) -> ModbusPlc:
        if not await self.client.connect():
            raise PlcTimeout("cannot connect to the station's Modbus TCP server")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.client.close()

    async def read(self, name: str, count: int = 1) -> list[int]:
        from line.plc.modbus_map import addr
        return (await self.client.read_holding_registers(addr(name), count=count)).registers

    async def write(self, name: str, value: int) -> None:
        from line.plc.modbus_map import addr
        response = await self.client.write_register(addr(name), value)
        if response.isError():
            raise PlcTimeout(f"the station refused the write of {name}: {response}")

    async def wait_for(self, name: str, predicate: Any, timeout_s: float = 30.0) -> int:
        end = time.monotonic() + timeout_s
        while True:
            value = (await self.read(name))[0]
            if predicate(value):
                return value
            if time.monotonic() > end:
                raise PlcTimeout(f"{name} stayed {value} for {timeout_s} s")
            await asyncio.sleep(0.002)

    async def select(self, code: int, timeout_s: float = 120.0) -> int:
        await self.write("PRODUCT_SELECT", code)
        await self.wait_for("PRODUCT_SELECT", lambda v: v == 0, timeout_s)
        error = (await self.read("ERROR_CODE"))[0]
        if error:
            raise PlcTimeout(f"the station refused product code {code}: error code {error}")
        await self.wait_for("STATE", lambda v: v in (1, 3), timeout_s)
        return (await self.read("STEPS_PER_CAN"))[0]

    async def trigger(self, step: int) -> int:
        """Write TRIGGER, wait for it to read 0; the ERROR_CODE (0 = pictures taken)."""
        await self.write("TRIGGER", step)
        await self.wait_for("TRIGGER", lambda v: v == 0)
        return (await self.read("ERROR_CODE"))[0]

    async def wait_result(self, timeout_s: float = 30.0) -> dict:
        await self.wait_for("RESULT_READY", lambda v: v == 1, timeout_s)
        regs = await self.read("RESULT_READY", 9)   # RESULT_READY .. ERROR_CODE
        reject = (await self.client.read_coils(0, count=1)).bits[0]
        return {"verdict_code": regs[1], "can_number": regs[3], "sides_review": regs[4],
                "sides_reject": regs[5], "sides_missing": regs[6], "ms": regs[7],
                "reject_coil": bool(reject)}

    async def acknowledge(self) -> None:
        await self.write("ACK", 1)
        await self.wait_for("ACK", lambda v: v == 0)
