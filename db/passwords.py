"""Password hashing with argon2id (argon2-cffi) and the password policy. Never stores or logs a
plaintext password.

Policy (:func:`check_policy`): at least 8 characters, and not guessable: zxcvbn (the maintained
Python port of Dropbox's estimator, which carries lists of the most common passwords, words,
names, keyboard patterns and dates) must rate it at least :data:`MIN_SCORE` of 4 (about 10^8
guesses), taking the user name into account. The refusal says why and what helps.

Threading: a :class:`PasswordHasher` is immutable and safe to share between threads;
:func:`check_policy` is a pure function.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import argon2
import zxcvbn
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from db.errors import ValidationError
from db.names import has_lone_surrogate

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024   # a very long input would only make hashing a denial of service
MIN_SCORE = 3                # zxcvbn: 3 = "safely unguessable", about 10^8 guesses
_ZXCVBN_CHARS = 72           # zxcvbn's own limit; a longer password is judged by its start


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
        # Bytes, so that a lone surrogate (which no stored password can hold: the policy refuses
        # it) is simply a wrong password instead of a UnicodeEncodeError.
        secret = password.encode("utf-8", "surrogatepass") if isinstance(password, str) else b""
        try:
            return self._hasher.verify(stored_hash or self._dummy, secret) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def check_policy(password: str, field: str = "password", user_inputs: Iterable[str] = ()) -> None:
    """Refuse a password that is too short, too long, unstorable or guessable (ValidationError
    for ``field`` with a message that says what helps). ``user_inputs``: words the password
    must not lean on (the user name)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(field, f"The password must have at least {MIN_PASSWORD_LENGTH} "
                                     "characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(field, f"The password must have at most {MAX_PASSWORD_LENGTH} "
                                     "characters.")
    if has_lone_surrogate(password) or "\x00" in password:
        raise ValidationError(field, "The password holds characters that cannot be stored (a "
                                     "broken copy and paste?); please type it again.")
    if password.strip() == "":
        raise ValidationError(field, "The password must not be only spaces.")
    words = [w for w in user_inputs if isinstance(w, str) and not has_lone_surrogate(w)]
    verdict = zxcvbn.zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=words)
    if verdict["score"] < MIN_SCORE:
        feedback = verdict.get("feedback") or {}
        why = feedback.get("warning") or "This password is too easy to guess."
        hints = " ".join(feedback.get("suggestions") or [])
        raise ValidationError(field, f"{why.rstrip('.')}. {hints or 'Use a few uncommon words.'}"
                                     " A passphrase of three or four unrelated words works well.")
