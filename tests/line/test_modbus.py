"""The line through Modbus TCP: a real pymodbus client runs the documented handshake (select,
trigger -> step done, result ready with the verdict code and the reject coil, acknowledge) against
the station's real pymodbus server, with pypylon's emulated camera playing real can photos."""
from __future__ import annotations

import asyncio

from line.config import ModbusConfig
from line.plc.modbus import ModbusServer
from line.plc.modbus_map import ERROR_CODES
from line.plc.sim import ModbusPlc
from tests.line.conftest import expected_cans, free_port, line_config, running_line

CODE = 12


def serve(controller, sku: str) -> ModbusServer:
    server = ModbusServer(controller, ModbusConfig(enabled=True, host="127.0.0.1",
                                                   port=free_port(), products={CODE: sku}))
    server.start()
    return server


def mask(sides, outcome: str) -> int:
    return sum(1 << i for i, s in enumerate(sides) if s.outcome.value == outcome)


def test_plc_runs_the_handshake_for_two_cans_and_reads_verdicts_and_the_reject_coil(line_world):
    expected = expected_cans(line_world)
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(controller, line_world.sku)
        try:
            async def plc() -> tuple[list[dict], list[int]]:
                async with ModbusPlc("127.0.0.1", server._config.port) as p:
                    assert (await p.read("STATE"))[0] == 0
                    assert await p.select(CODE) == 7
                    assert (await p.read("ACTIVE_PRODUCT"))[0] == CODE
                    results, after_ack = [], []
                    for _ in range(2):
                        for step in range(1, 8):
                            assert await p.trigger(step) == 0
                            assert (await p.read("STEP_DONE"))[0] == step
                        results.append(await p.wait_result())
                        await p.acknowledge()
                        after_ack.append((await p.read("RESULT_READY"))[0])
                        after_ack.append(int((await p.client.read_coils(0, count=1)).bits[0]))
                    counters = await p.read("PASSED", 8)
                    return results, after_ack + counters
            results, tail = asyncio.run(plc())
        finally:
            server.stop()
    codes = {"pass": 1, "review": 2, "reject": 3}
    for got, want in zip(results, expected):
        assert got["verdict_code"] == codes[want.verdict.value]
        assert got["reject_coil"] == (want.verdict.value == "reject")
        assert got["sides_review"] == mask(want.sides, "review")
        assert got["sides_reject"] == mask(want.sides, "reject")
        assert got["sides_missing"] == 0 and got["ms"] > 0
    assert [r["can_number"] for r in results] == [1, 2]
    assert tail[:4] == [0, 0, 0, 0]              # acknowledged: result and coil cleared
    passed, review, rejected = tail[5], tail[7], tail[9]   # 32-bit counters, low words
    assert passed + review + rejected == 2
    assert rejected == sum(w.verdict.value == "reject" for w in expected)
    assert line_world.station.inspections.count(line_world.admin) == 2


def test_results_wait_for_the_acknowledge_in_order(line_world):
    """A PLC that starts the next can before acknowledging loses no verdict."""
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(controller, line_world.sku)
        try:
            async def plc() -> list[int]:
                async with ModbusPlc("127.0.0.1", server._config.port) as p:
                    await p.select(CODE)
                    for _ in range(2):
                        for step in range(1, 8):
                            assert await p.trigger(step) == 0
                    numbers = []
                    for _ in range(2):
                        numbers.append((await p.wait_result())["can_number"])
                        await p.acknowledge()
                    return numbers
            assert asyncio.run(plc()) == [1, 2]
        finally:
            server.stop()


def test_refusals_set_the_error_code_and_station_registers_are_read_only(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(controller, line_world.sku)
        try:
            async def plc() -> None:
                async with ModbusPlc("127.0.0.1", server._config.port) as p:
                    assert await p.trigger(1) == ERROR_CODES["no-product"]
                    await p.write("PRODUCT_SELECT", 999)
                    await p.wait_for("PRODUCT_SELECT", lambda v: v == 0)
                    assert (await p.read("ERROR_CODE"))[0] == ERROR_CODES["unknown-product"]
                    await p.select(CODE)
                    assert await p.trigger(2) == ERROR_CODES["wrong-step"]
                    response = await p.client.write_register(1, 1)      # STATE
                    assert response.isError()
                    response = await p.client.write_coil(0, True)        # the reject coil
                    assert response.isError()
            asyncio.run(plc())
        finally:
            server.stop()
