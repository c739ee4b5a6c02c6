"""The line through OPC UA: a real asyncua client selects a product, triggers the seven captures
of pypylon's emulated camera playing real can photos, and reads the verdicts from the station's
real asyncua server; the cans are recorded. Also: sign-in, refusals, and encryption."""
from __future__ import annotations

import asyncio
import math

import pytest
from asyncua import ua

from line.config import OpcUaConfig
from line.plc.opcua import OpcUaServer
from line.plc.sim import UaPlc
from tests.line.conftest import PLC_PASSWORD, PLC_USER, expected_cans, free_port, line_config, running_line


def serve(world, controller, security: str = "none") -> OpcUaServer:
    server = OpcUaServer(controller, world.station,
                         OpcUaConfig(host="127.0.0.1", port=free_port(), security=security),
                         world.data_dir / "line" / "opcua")
    server.start()
    return server


def test_plc_selects_triggers_seven_sides_and_reads_each_verdict(line_world):
    expected = expected_cans(line_world)
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(line_world, controller)
        try:
            async def plc() -> list[dict]:
                async with UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, timeout_s=30) as p:
                    assert await p.read("State") == "idle"
                    assert await p.select(line_world.sku) == 7
                    assert await p.read("ActiveProduct") == line_world.sku
                    results = []
                    for _ in range(2):
                        result, _ms = await p.run_can(7)
                        results.append(result)
                    await p.wait_for("Counters.Recorded", lambda v: v == 2, 30)
                    assert await p.read("LastResult.InspectionId") > 0
                    return results
            results = asyncio.run(plc())
        finally:
            server.stop()
    for got, want in zip(results, expected):
        assert got["Verdict"] == want.verdict.value
        assert got["VerdictCode"] == {"pass": 1, "review": 2, "reject": 3}[want.verdict.value]
        assert got["Reject"] == (want.verdict.value == "reject")
        assert got["SideOutcomes"] == [s.outcome.value for s in want.sides]
        assert all(math.isclose(a, s.score, abs_tol=1e-4)
                   for a, s in zip(got["SideScores"], want.sides))
        assert got["Reason"] == "" and not got["DeadlineMissed"]
        assert got["TriggerToVerdictMs"] > 0
    assert results[0]["CanId"] != results[1]["CanId"]
    assert [r["CanNumber"] for r in results] == [1, 2]
    # every can recorded, as the line's user, with the verdict the PLC read and all its sides
    rows = line_world.station.inspections.page(line_world.admin, sort="started")
    assert [r.machine_verdict for r in rows] == [r["Verdict"] for r in results]
    assert {r.operator_name for r in rows} == {"line"} and {r.station_name for r in rows} == {
        "test-line"}
    for row, want in zip(rows, expected):
        info = line_world.station.inspections.get(line_world.admin, row.id)
        assert [s.outcome for s in info.sides] == [s.outcome.value for s in want.sides]
    c = controller.counters()
    assert (c.passed + c.review + c.rejected, c.recorded, c.record_failed) == (2, 2, 0)


def test_refusals_reach_the_plc_as_status_codes_with_the_reason(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(line_world, controller)
        try:
            async def plc() -> None:
                async with UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, timeout_s=30) as p:
                    with pytest.raises(ua.UaStatusCodeError) as err:
                        await p.trigger(1)
                    assert err.value.code == ua.StatusCodes.BadInvalidState
                    assert "No product is selected" in await p.read("LastError")
                    with pytest.raises(ua.UaStatusCodeError) as err:
                        await p.call("SelectProduct", "NO-SUCH-SKU")
                    assert err.value.code == ua.StatusCodes.BadNotFound
                    assert "NO-SUCH-SKU" in await p.read("LastError")
                    await p.select(line_world.sku)
                    with pytest.raises(ua.UaStatusCodeError) as err:
                        await p.trigger(3)
                    assert "step 1 starts a can" in await p.read("LastError")
                    out = await p.trigger(1)
                    assert out[1:] == [1, 7] and len(out[0]) == 32
                    with pytest.raises(ua.UaStatusCodeError):
                        await p.trigger(5)
                    assert "Step 2 of 7 is next" in await p.read("LastError")
                    assert await p.read("Step") == 1 and await p.read("State") == "busy"
                    await p.call("Reset")
                    result = await p.wait_result()
                    assert result["Verdict"] == "review"       # cut short: never a pass
                    assert "reset" in result["Reason"] and "not captured" in result["Reason"]
                    assert result["SideOutcomes"][1:] == ["missing"] * 6
            asyncio.run(plc())
        finally:
            server.stop()


def test_sign_in_is_required_and_checked_against_the_station_accounts(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(line_world, controller)
        try:
            async def attempt(user: str, password: str) -> None:
                async with UaPlc(server.endpoint, user, password, timeout_s=30) as p:
                    await p.read("State")

            with pytest.raises(ua.UaStatusCodeError) as err:
                asyncio.run(attempt(PLC_USER, "not the password"))
            assert err.value.code == ua.StatusCodes.BadUserAccessDenied
            with pytest.raises(ua.UaStatusCodeError):
                asyncio.run(attempt("nobody", PLC_PASSWORD))

            async def anonymous() -> None:
                from asyncua import Client
                async with Client(server.endpoint, timeout=30) as client:
                    await client.nodes.server_state.read_value()
            with pytest.raises(ua.UaStatusCodeError) as err:
                asyncio.run(anonymous())
            assert err.value.code == ua.StatusCodes.BadIdentityTokenRejected
            asyncio.run(attempt(PLC_USER, PLC_PASSWORD))   # the right one still works
        finally:
            server.stop()


def test_encrypted_endpoint_with_the_stations_own_certificate(line_world, tmp_path):
    with running_line(line_world, line_config(line_world)) as controller:
        server = serve(line_world, controller, security="sign-encrypt")
        try:
            cert_dir = line_world.data_dir / "line" / "opcua"
            assert (cert_dir / "server-cert.der").is_file()
            assert (cert_dir / "server-key.pem").stat().st_mode & 0o077 == 0

            async def encrypted() -> str:
                async with UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, "sign-encrypt",
                                 tmp_path / "plc", timeout_s=30) as p:
                    return await p.read("State")
            assert asyncio.run(encrypted()) == "idle"

            async def plain() -> None:
                async with UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, timeout_s=30) as p:
                    await p.read("State")
            # asyncua's client refuses (no endpoint without security) or the server rejects the
            # None policy: both are asyncua's UaError.
            with pytest.raises(ua.UaError, match="(?i)no matching endpoints|security"):
                asyncio.run(plain())
        finally:
            server.stop()
