"""Normalised keys for names that must be unique regardless of how they are typed.

``otto`` and ``Otto``, "Main store" and "main  store", a full-width ``ｏｔｔｏ`` and a name with a
zero-width space inside are the same name to a person, so they get the same key: Unicode NFKC
(compatibility forms such as full-width letters and ligatures become plain ones), case folding,
NFKC again (folding can un-normalise), format characters (zero-width spaces and joiners, bidi
marks) dropped, and runs of white space collapsed to one space. The key is stored beside the name
with a unique index (users, warehouses, product SKUs); sign-in looks users up by it. The name
itself is kept as the person typed it.

Not covered: letters of different scripts that merely look alike (Latin ``o``, Cyrillic ``о``).
User names are limited to ASCII after NFKC, so they cannot differ that way.

Migration 0003 carries a frozen copy of this rule to fill the keys of existing rows; changing the
rule needs a migration that recomputes them. Pure functions; any thread.
"""
from __future__ import annotations

import hashlib
import unicodedata

MAX_KEY_LEN = 512


def name_key(value: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def throttle_key(value: str) -> str:
    """What sign-in throttling is keyed by: a hash of the name's key, so that the table of
    failed attempts never holds the names (or mistyped passwords) people tried."""
    return hashlib.sha256(name_key(value).encode("utf-8", "surrogatepass")).hexdigest()


def has_lone_surrogate(value: str) -> bool:
    """Text that cannot be stored (nor hashed) as UTF-8: a lone surrogate from a broken paste."""
    return any("\ud800" <= ch <= "\udfff" for ch in value)
