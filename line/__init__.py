"""The station at the line: industrial cameras, the PLC's OPC UA and Modbus TCP servers, and the
controller that turns a PLC's triggers into captured sides, a verdict in time, and a record.

Qt-free (an import-linter contract keeps it so): the GUI's line panel and ``main.py line`` both
drive the same ``line.controller.LineController``. See docs/LINE.md.
"""
