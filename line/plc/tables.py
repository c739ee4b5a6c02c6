"""The node set and register map as Markdown tables, for docs/LINE.md (a test checks that the
document carries exactly these rows): ``python -m line.plc.tables`` prints them."""
from __future__ import annotations

from line.plc.modbus_map import ERROR_TEXT, REGISTERS, WIDE
from line.plc.opcua_nodes import METHODS, ROOT, VARIABLES


def node_rows() -> list[str]:
    return [f"| `{ROOT}.{name}` | {kind}{'[]' if array else ''} | {doc} |"
            for name, kind, array, doc in VARIABLES]


def method_rows() -> list[str]:
    def args(items: tuple) -> str:
        return ", ".join(f"{n}: {k}" for n, k in items) or "–"
    return [f"| `{ROOT}.{name}` | {args(inputs)} | {args(outputs)} | {doc} |"
            for name, inputs, outputs, doc in METHODS]


def register_rows() -> list[str]:
    rows = []
    for name, (address, plc, doc) in sorted(REGISTERS.items(), key=lambda kv: kv[1][0]):
        where = f"{address}-{address + 1}" if name in WIDE else str(address)
        rows.append(f"| {where} | `{name}` | {'PLC' if plc else 'station'} | {doc} |")
    return rows


def error_rows() -> list[str]:
    return [f"| {code} | {text} |" for code, text in sorted(ERROR_TEXT.items())]


if __name__ == "__main__":
    for title, header, rows in (
            ("Variables", "| NodeId (s=) | type | meaning |\n|---|---|---|", node_rows()),
            ("Methods", "| NodeId (s=) | inputs | outputs | what it does |\n|---|---|---|---|",
             method_rows()),
            ("Holding registers", "| address | name | written by | meaning |\n|---|---|---|---|",
             register_rows()),
            ("ERROR_CODE", "| code | meaning |\n|---|---|", error_rows())):
        print(f"### {title}\n\n{header}")
        print("\n".join(rows) + "\n")
