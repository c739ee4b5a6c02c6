"""The sides of a can: how many every product has, and their default names in capture order (the
lid, the bottom and five views of the body). The engine, the records and the GUI all count them
from here."""
from __future__ import annotations

DEFAULT_SIDE_NAMES: tuple[str, ...] = (
    "Lid",
    "Bottom",
    "Body 0°",
    "Body 72°",
    "Body 144°",
    "Body 216°",
    "Body 288°",
)
SIDES_PER_CAN = len(DEFAULT_SIDE_NAMES)
