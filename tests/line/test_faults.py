"""What goes wrong mid-can, with the real parts: the emulated camera removed (pypylon's own
device-removal event), the PLC's OPC UA connection cut, the Modbus client gone, a PLC that stops
triggering, a broken frame, and a verdict later than its deadline. None of them passes a can."""
from __future__ import annotations

import asyncio
import logging
import time

import pytest
from asyncua import ua

from line.config import ModbusConfig, OpcUaConfig
from line.errors import RequestRefused
from line.events import ListenerBase
from line.plc.modbus import ModbusServer
from line.plc.opcua import OpcUaServer
from line.plc.sim import ModbusPlc, UaPlc
from tests.line.conftest import PLC_PASSWORD, PLC_USER, expected_cans, free_port, line_config, running_line


class Events(ListenerBase):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def line_event(self, message: str, level: int = logging.INFO) -> None:
        self.messages.append(message)


def opcua(world, controller) -> OpcUaServer:
    server = OpcUaServer(controller, world.station,
                         OpcUaConfig(host="127.0.0.1", port=free_port(), security="none"),
                         world.data_dir / "opcua")
    server.start()
    return server


def unplug(controller, name: str = "turntable") -> None:
    """The emulator's device-removal event, as a pulled cable raises it in the SDK."""
    from pypylon import genicam

    camera = controller.rig.source(name).camera
    try:
        camera.FirePnPCallback.Execute()
    except genicam.GenericException:
        pass   # the SDK reports the removal to the caller too
    assert camera.IsCameraDeviceRemoved()


def test_camera_lost_mid_can_sends_the_can_to_review_and_reconnects_by_itself(line_world):
    expected = expected_cans(line_world)
    events = Events()
    with running_line(line_world, line_config(line_world)) as controller:
        controller.add_listener(events)
        server = opcua(line_world, controller)
        try:
            async def plc() -> tuple[dict, dict]:
                async with UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, timeout_s=30) as p:
                    await p.select(line_world.sku)
                    for step in (1, 2, 3):
                        await p.trigger(step)
                    unplug(controller)
                    with pytest.raises(ua.UaStatusCodeError) as err:
                        await p.trigger(4)
                    assert err.value.code == ua.StatusCodes.BadDeviceFailure
                    assert "disconnected" in await p.read("LastError")
                    lost = await p.wait_result()
                    await p.wait_for("State", lambda v: v == "ready", 30)   # back by itself
                    after, _ = await p.run_can(7)                            # and it works
                    return lost, after
            lost, after = asyncio.run(plc())
        finally:
            server.stop()
    assert lost["Verdict"] == "review" and not lost["Reject"]
    assert "disconnected" in lost["Reason"] and "step 4 of 7" in lost["Reason"]
    assert lost["SideOutcomes"][3:] == ["missing"] * 4
    assert lost["SideOutcomes"][:3] == [s.outcome.value for s in expected[0].sides[:3]]
    assert any("turntable lost" in m or "cut short" in m for m in events.messages)
    assert "Camera turntable reconnected." in events.messages
    # the reopened emulator starts its folder again: the next can is can 1's photos
    assert after["SideOutcomes"] == [s.outcome.value for s in expected[0].sides]
    rows = line_world.station.inspections.page(line_world.admin, sort="started")
    assert [r.machine_verdict for r in rows] == ["review", after["Verdict"]]
    assert len(line_world.station.inspections.get(line_world.admin, rows[0].id).sides) == 3


def test_opcua_connection_cut_mid_can_ends_the_can_in_review(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        server = opcua(line_world, controller)
        try:
            async def cut() -> None:
                p = UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, timeout_s=30)
                await p.__aenter__()
                await p.select(line_world.sku)
                for step in (1, 2, 3):
                    await p.trigger(step)
                p.client.uaclient.protocol.transport.abort()    # the cable, not a goodbye
                await asyncio.sleep(0.2)

            async def reconnect() -> tuple[dict, str, dict]:
                async with UaPlc(server.endpoint, PLC_USER, PLC_PASSWORD, timeout_s=30) as p:
                    await p.wait_for("LastResult.Sequence", lambda v: v >= 1, 30)
                    lost = await p.result()
                    state = await p.wait_for("State", lambda v: v == "ready", 30)
                    after, _ = await p.run_can(7)
                    return lost, state, after
            asyncio.run(cut())
            lost, state, after = asyncio.run(reconnect())
        finally:
            server.stop()
    assert lost["Verdict"] == "review"
    assert "connection of OPC UA user plc1 was lost after step 3 of 7" in lost["Reason"]
    assert lost["SideOutcomes"][3:] == ["missing"] * 4
    assert after["CanNumber"] == 2 and after["Reason"] == ""
    verdicts = [r.machine_verdict for r in
                line_world.station.inspections.page(line_world.admin, sort="started")]
    assert verdicts == ["review", after["Verdict"]]


def test_modbus_client_gone_mid_can_ends_the_can_in_review(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        server = ModbusServer(controller, ModbusConfig(enabled=True, host="127.0.0.1",
                                                       port=free_port(), products={1: "BEANS-400"}))
        server.start()
        try:
            async def cut() -> None:
                async with ModbusPlc("127.0.0.1", server._config.port) as p:
                    await p.select(1)
                    for step in (1, 2):
                        assert await p.trigger(step) == 0

            async def reconnect() -> dict:
                async with ModbusPlc("127.0.0.1", server._config.port) as p:
                    return await p.wait_result()
            asyncio.run(cut())
            lost = asyncio.run(reconnect())
        finally:
            server.stop()
    assert lost["verdict_code"] == 2 and not lost["reject_coil"]
    assert lost["sides_missing"] == 0b1111100
    assert "Modbus TCP client was lost after step 2 of 7" in controller.history[-1].reason


def test_a_plc_that_stops_triggering_mid_can_is_taken_for_lost(line_world):
    with running_line(line_world, line_config(line_world, step_timeout_s=1.0)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        # The clock starts before the trigger: the controller's 1 s runs from the step it took,
        # which may come before trigger() hands its result back to this thread (seen: 0.992 s).
        started = time.monotonic()
        controller.trigger(1).result(30)
        wait_published(controller, 1)
        waited = time.monotonic() - started
    report = controller.history[-1]
    assert report.verdict.value == "review" and waited >= 1.0
    assert "no trigger came for 1 s after step 1 of 7" in report.reason


def test_a_broken_frame_is_triggered_again_once_then_sends_the_can_to_review(line_world):
    with running_line(line_world, line_config(line_world)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        camera = controller.rig.source("turntable").camera
        camera.ForceFailedBufferCount.SetValue(1)
        camera.ForceFailedBuffer.Execute()
        assert controller.trigger(1).result(30).step == 1        # retried, picture taken
        camera.ForceFailedBufferCount.SetValue(2)
        camera.ForceFailedBuffer.Execute()
        with pytest.raises(RequestRefused, match="broken picture") as refused:
            controller.trigger(2).result(30)
        assert refused.value.code == "camera-failed"          # not "camera-lost"
        wait_published(controller, 1)
    report = controller.history[-1]
    assert report.verdict.value == "review" and "broken picture" in report.reason
    assert report.side_outcomes[1:] == ("missing",) * 6
    assert controller.rig.lost == {}            # a broken frame is not a lost camera


def test_a_verdict_later_than_the_deadline_is_published_as_reject_and_logged(line_world, caplog):
    caplog.set_level(logging.WARNING)
    expected = expected_cans(line_world)
    with running_line(line_world, line_config(line_world, deadline_ms=1)) as controller:
        controller.select_product(line_world.sku).result(30)
        wait_state(controller, "ready")
        for step in range(1, 8):
            controller.trigger(step).result(30)
        wait_published(controller, 1)
        wait_recorded(controller, 1)
    report = controller.history[-1]
    assert report.verdict.value == "reject" and report.deadline_missed
    assert "no verdict within the 1 ms deadline" in report.reason
    assert set(report.side_outcomes) == {"pending"}
    assert controller.counters().deadline_missed == 1 and controller.counters().rejected == 1
    row = line_world.station.inspections.page(line_world.admin)[0]
    assert row.machine_verdict == "reject"      # recorded as what the line did with the can
    late = [r.getMessage() for r in caplog.records if "after the 1 ms deadline" in r.getMessage()]
    assert late and f"the verdict ({expected[0].verdict.value})" in late[0]


def wait_state(controller, state: str, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while controller.status().state.value != state:
        assert time.monotonic() < end, f"the line stayed {controller.status()}"
        time.sleep(0.02)


def wait_published(controller, n: int, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while len(controller.history) < n:
        assert time.monotonic() < end, "no can was published"
        time.sleep(0.02)


def wait_recorded(controller, n: int, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while controller.counters().recorded + controller.counters().record_failed < n:
        assert time.monotonic() < end, "no can was recorded"
        time.sleep(0.02)
