"""Password hashing with argon2id (argon2-cffi). Never stores or logs a plaintext password.

Threading: a :class:`PasswordHasher` is immutable and safe to share between threads.
"""
from __future__ import annotations

from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from db.errors import ValidationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024   # a very long input would only make hashing a denial of service


class PasswordHasher:
    """argon2id with the library's recommended parameters (RFC 9106 low-memory profile).

    Tests pass cheaper parameters through ``Station.open(password_hasher=...)``; the algorithm
    stays argon2id, and hashes made with other parameters are rehashed at the next sign-in.
    """

    def __init__(self, time_cost: int | None = None, memory_cost: int | None = None,
                 parallelism: int | None = None) -> None:
        kwargs: dict[str, Any] = {k: v for k, v in (("time_cost", time_cost), ("memory_cost", memory_cost),
                                    ("parallelism", parallelism)) if v is not None}
        self._hasher = argon2.PasswordHasher(type=argon2.Type.ID, **kwargs)
        # Verified against when the user name is unknown, so that the answer takes as long as
        # for a known user and does not tell which names exist.
        self._dummy = self._hasher.hash("not a real password, only for timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def check_policy(password: str, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(field, f"The password must have at least {MIN_PASSWORD_LENGTH} "
                                     "characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(field, f"The password must have at most {MAX_PASSWORD_LENGTH} "
                                     "characters.")
    if password.strip() == "":
        raise ValidationError(field, "The password must not be only spaces.")
