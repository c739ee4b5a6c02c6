"""The seven sides of a can (defined in ``common.sides``, which the records share)."""
from __future__ import annotations

from common.sides import DEFAULT_SIDE_NAMES, SIDES_PER_CAN

__all__ = ["DEFAULT_SIDE_NAMES", "SIDES_PER_CAN"]
