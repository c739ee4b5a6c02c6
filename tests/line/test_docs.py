"""docs/LINE.md carries exactly the node set, methods and register map the code serves."""
from __future__ import annotations

from pathlib import Path

from line.plc import tables

DOC = (Path(__file__).resolve().parents[2] / "docs" / "LINE.md").read_text(encoding="utf-8")


def doc_rows(prefix: str) -> set[str]:
    return {line for line in DOC.splitlines() if line.startswith(prefix)}


def test_the_node_set_and_methods_in_the_docs_are_those_served():
    assert doc_rows("| `CanInspection.") == set(tables.node_rows()) | set(tables.method_rows())


def test_the_register_map_and_error_codes_in_the_docs_are_those_served():
    registers = {row for row in DOC.splitlines() if row.startswith("| ") and "| `" in row
                 and row.split("|")[1].strip()[:1].isdigit()}
    assert registers == set(tables.register_rows())
    for row in tables.error_rows():
        assert row in DOC
