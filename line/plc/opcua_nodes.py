"""The station's OPC UA node set, after the ideas of the OPC UA Machine Vision companion
specification (OPC 40100: a system state, a selected recipe, a trigger, results), kept small.

Every node has a string NodeId in the station's namespace (``NAMESPACE``), so a PLC addresses
them directly, e.g. ``ns=<index of NAMESPACE>;s=CanInspection.LastResult.Verdict``. The table in
docs/LINE.md is generated from ``VARIABLES`` and ``METHODS`` (a test checks that they agree).

Threading rule: ``build`` runs on the OPC UA server's event loop; ``status_values``,
``result_values`` and ``counter_values`` are plain functions any thread may call.
"""
from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from line.events import CanReport, Counters, LineState, LineStatus

NAMESPACE = "urn:can-inspection-station:line"
ROOT = "CanInspection"

# (NodeId suffix, OPC UA type, array, what it holds). Folders: LastResult, Counters.
VARIABLES: tuple[tuple[str, str, bool, str], ...] = (
    ("State", "String", False, "idle, ready, busy or error"),
    ("StateCode", "Int32", False, "0 idle, 1 ready, 2 busy, 3 error"),
    ("Message", "String", False, "what the station last said (why it is in error, what happened)"),
    ("LastError", "String", False, "the text of the last refused method call"),
    ("ActiveProduct", "String", False, "SKU of the selected product ('' = none)"),
    ("StepsPerCan", "UInt16", False, "triggers per can for the selected product"),
    ("Step", "UInt16", False, "steps captured of the open can (0 = no can open)"),
    ("CanId", "String", False, "capture key of the open can"),
    ("LostCameras", "String", True, "cameras being reconnected"),
    ("LastResult.Sequence", "UInt32", False, "+1 per published can; written last"),
    ("LastResult.CanId", "String", False, "the can's capture key (as returned by Trigger)"),
    ("LastResult.CanNumber", "UInt32", False, "1, 2, ... since the station started"),
    ("LastResult.Product", "String", False, "SKU"),
    ("LastResult.Verdict", "String", False, "pass, review or reject"),
    ("LastResult.VerdictCode", "Int16", False, "1 pass, 2 review, 3 reject"),
    ("LastResult.Reject", "Boolean", False, "true: kick the can out (verdict reject)"),
    ("LastResult.SideNames", "String", True, "the product's sides, in order"),
    ("LastResult.SideOutcomes", "String", True, "per side: pass, review, reject, missing or pending"),
    ("LastResult.SideScores", "Double", True, "normalised scores (0.5 = threshold); NaN = none"),
    ("LastResult.Reason", "String", False, "why the verdict is worse than the sides ('' = none)"),
    ("LastResult.DeadlineMissed", "Boolean", False, "true: no verdict in time, rejected"),
    ("LastResult.TriggerToVerdictMs", "Double", False, "last trigger's arrival to publication"),
    ("LastResult.InspectMs", "Double", False, "of which the model's inspection of the can"),
    ("LastResult.Time", "DateTime", False, "when the verdict was published (UTC)"),
    ("LastResult.InspectionId", "Int64", False, "the record's id once recorded (0 before)"),
    ("Counters.Passed", "UInt32", False, "cans published as pass"),
    ("Counters.Review", "UInt32", False, "cans published as review"),
    ("Counters.Rejected", "UInt32", False, "cans published as reject"),
    ("Counters.DeadlineMissed", "UInt32", False, "cans rejected at their deadline"),
    ("Counters.Recorded", "UInt32", False, "cans recorded in the database"),
    ("Counters.RecordFailed", "UInt32", False, "cans whose record failed (see the log)"),
)

# (name, inputs, outputs, what it does); arguments as (name, type).
METHODS: tuple[tuple[str, tuple, tuple, str], ...] = (
    ("SelectProduct", (("Sku", "String"),), (("StepsPerCan", "UInt16"),),
     "select the product (recipe and model) by SKU; ends an open can as incomplete"),
    ("Trigger", (("Step", "UInt16"),),
     (("CanId", "String"), ("Step", "UInt16"), ("StepsPerCan", "UInt16")),
     "capture step Step (1 starts a can, 0 = the next); returns when the pictures are taken"),
    ("Reset", (), (), "end an open can as incomplete and clear an error"),
)


def node_id(ns: int, name: str) -> str:
    return f"ns={ns};s={ROOT}.{name}" if name else f"ns={ns};s={ROOT}"


def _empty(kind: str) -> Any:
    return {"String": "", "Boolean": False, "Double": 0.0,
            "DateTime": datetime(1970, 1, 1, tzinfo=timezone.utc)}.get(kind, 0)


async def build(server: Any, ns: int, handlers: dict[str, Callable[..., Awaitable[Any]]]) -> dict:
    """Add the node set; returns {suffix: (NodeId, VariantType)} of the variables."""
    from asyncua import ua

    root = await server.nodes.objects.add_object(node_id(ns, ""), ua.QualifiedName(ROOT, ns))
    folders = {"": root}
    for folder in ("LastResult", "Counters"):
        folders[folder] = await root.add_object(node_id(ns, folder), ua.QualifiedName(folder, ns))
    variables = {}
    for name, kind, array, doc in VARIABLES:
        parent_name, _, leaf = name.rpartition(".")
        vtype = getattr(ua.VariantType, kind)
        value = ua.Variant([] if array else _empty(kind), vtype)
        var = await folders[parent_name].add_variable(node_id(ns, name), ua.QualifiedName(leaf, ns),
                                                      value)
        await var.write_attribute(ua.AttributeIds.Description,
                                  ua.DataValue(ua.Variant(ua.LocalizedText(doc))))
        variables[name] = (var.nodeid, vtype)
    for name, inputs, outputs, doc in METHODS:
        args_in = [_argument(ua, n, k) for n, k in inputs]
        args_out = [_argument(ua, n, k) for n, k in outputs]
        method = await root.add_method(node_id(ns, name), ua.QualifiedName(name, ns),
                                       handlers[name], args_in, args_out)
        await method.write_attribute(ua.AttributeIds.Description,
                                     ua.DataValue(ua.Variant(ua.LocalizedText(doc))))
    return variables


def _argument(ua: Any, name: str, kind: str) -> Any:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = ua.NodeId(getattr(ua.ObjectIds, kind))
    arg.ValueRank = -1
    return arg


def status_values(s: LineStatus) -> list[tuple[str, Any]]:
    return [("State", s.state.value), ("StateCode", s.state.code), ("Message", s.message),
            ("ActiveProduct", s.product_sku), ("StepsPerCan", s.steps_per_can),
            ("Step", s.step), ("CanId", s.can_id), ("LostCameras", list(s.lost_cameras))]


def result_values(r: CanReport, sequence: int) -> list[tuple[str, Any]]:
    """The last result's values; the sequence number comes last so that a PLC that sees it
    change reads a complete result."""
    return [("LastResult.CanId", r.can_id), ("LastResult.CanNumber", r.number),
            ("LastResult.Product", r.sku), ("LastResult.Verdict", r.verdict.value),
            ("LastResult.VerdictCode", r.verdict_code),
            ("LastResult.Reject", r.verdict.value == "reject"),
            ("LastResult.SideNames", list(r.side_names)),
            ("LastResult.SideOutcomes", list(r.side_outcomes)),
            ("LastResult.SideScores", [float(x) if not math.isnan(x) else math.nan
                                       for x in r.side_scores]),
            ("LastResult.Reason", r.reason), ("LastResult.DeadlineMissed", r.deadline_missed),
            ("LastResult.TriggerToVerdictMs", float(r.trigger_to_verdict_ms)),
            ("LastResult.InspectMs", float(r.inspect_ms)),
            ("LastResult.Time", r.published), ("LastResult.InspectionId", 0),
            ("LastResult.Sequence", sequence)]


def counter_values(c: Counters) -> list[tuple[str, Any]]:
    return [("Counters.Passed", c.passed), ("Counters.Review", c.review),
            ("Counters.Rejected", c.rejected), ("Counters.DeadlineMissed", c.deadline_missed),
            ("Counters.Recorded", c.recorded), ("Counters.RecordFailed", c.record_failed)]


STATE_NAMES = [s.value for s in LineState]
