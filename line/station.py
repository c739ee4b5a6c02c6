"""The line as one piece: the controller plus the PLC servers line.json enables. The GUI's line
panel, ``main.py line`` and ``benchmarks/bench_line.py`` build it the same way.

Threading rule: ``start``/``stop`` from one owner thread (they block while servers start and the
controller drains its cans); the controller's methods from any thread.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from line.config import LineConfig
from line.controller import LineController

log = logging.getLogger("line")


class LineStation:
    def __init__(self, station: Any, actor: Any, config: LineConfig, settings: Any, *,
                 torch_threads: int = 0, camera_retry_s: float = 1.0) -> None:
        self.config = config
        self._station, self._data_dir = station, Path(settings.data_dir)
        self.controller = LineController(station, actor, config, settings.station_name,
                                         torch_threads=torch_threads,
                                         camera_retry_s=camera_retry_s)
        self.opcua: Any = None
        self.modbus: Any = None

    def start(self) -> None:
        """Start the loop, then the servers; a server that cannot start stops everything."""
        self.controller.start()
        try:
            if self.config.opcua.enabled:
                from line.plc.opcua import OpcUaServer
                folder = self.config.opcua.certificate_dir or self._data_dir / "line" / "opcua"
                self.opcua = OpcUaServer(self.controller, self._station, self.config.opcua,
                                         Path(folder))
                self.opcua.start()
            if self.config.modbus.enabled:
                from line.plc.modbus import ModbusServer
                self.modbus = ModbusServer(self.controller, self.config.modbus)
                self.modbus.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in (self.modbus, self.opcua):
            if server is not None:
                server.stop()
        self.modbus = self.opcua = None
        self.controller.stop()

    def endpoints(self) -> list[str]:
        found = []
        if self.opcua is not None:
            found.append(f"OPC UA {self.opcua.endpoint} ({self.config.opcua.security})")
        if self.modbus is not None:
            found.append(f"Modbus TCP {self.config.modbus.host}:{self.config.modbus.port}")
        return found
