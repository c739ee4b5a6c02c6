"""The PLC's side of the line: an OPC UA server (``opcua``) and a Modbus TCP server (``modbus``),
each a thin translation of PLC requests into ``line.controller.LineController`` calls and of the
controller's news into nodes or registers. See docs/LINE.md for the node set and register map."""
