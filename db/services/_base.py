"""What every service shares: the permission check against the database, and the audit log.

Threading: services keep no per-call state; every public method opens its own short transaction,
so every method of every service is safe to call from any thread (each call blocks that thread
for the duration of one transaction, so the GUI should call them from a worker for anything big).
"""
from __future__ import annotations

from typing import Any, Literal, TypeVar, overload

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from common.thresholds import ThresholdsInvalid, check_dict
from db.database import Database
from db.errors import NotFound, PasswordChangeRequired, PermissionDenied, ValidationError
from db.names import has_lone_surrogate
from db.permissions import Actor, Role, require
from db.records import GalleryFilter
from db.schema import AuditEvent, User
from db.services.filters import apply_filter

_Row = TypeVar("_Row")

SYSTEM = "system"


class Service:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _authorize(self, s: Session, actor: Actor, action: str) -> User:
        """The actor's user row, if it still exists, is active and its stored role allows ``action``.

        The role is read from the database, not taken from ``actor``: a demotion or deactivation
        takes effect at the next call, without signing out.
        """
        if not isinstance(actor, Actor):
            raise PermissionDenied(action, "Please sign in first.")
        user = s.get(User, actor.user_id)
        if user is None or not user.active:
            raise PermissionDenied(action, "Your account is disabled or was removed.")
        require(Role(user.role), action)
        if user.must_change_password and action != "user.change_own_password":
            raise PasswordChangeRequired()
        return user

    def _audit(self, s: Session, user: User | None, action: str, target: str = "",
               **details: Any) -> None:
        """Write an audit event in the caller's transaction, so it commits with the change."""
        s.add(AuditEvent(at=self._db.now_naive(), user_id=user.id if user else None,
                         username=user.username if user else SYSTEM, action=action,
                         target=target, details=details))

    def _where(self, q: Select, f: GalleryFilter, by_day: bool = False) -> Select:
        """The gallery filter ``f`` applied to ``q`` (see :mod:`db.services.filters`)."""
        return apply_filter(q, f, by_day=by_day, sqlite=self._db.is_sqlite)

    @staticmethod
    def _get(s: Session, cls: type[_Row], key: int, what: str, lock: bool = False) -> _Row:
        if lock:
            obj = s.execute(select(cls).where(cls.id == key)  # type: ignore[attr-defined]
                            .with_for_update()).scalar_one_or_none()
        else:
            obj = s.get(cls, key)
        if obj is None:
            raise NotFound(what, key)
        return obj


def clean_text(value: object, field: str, max_len: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "Please enter text.")
    if has_lone_surrogate(value) or "\x00" in value:
        raise ValidationError(field, "The text holds characters that cannot be stored (a broken "
                                     "copy and paste?); please type it again.")
    value = value.strip()
    if required and not value:
        raise ValidationError(field, "This cannot be empty.")
    if len(value) > max_len:
        raise ValidationError(field, f"At most {max_len} characters, please.")
    return value


def check_int(value: object, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "Please enter a whole number.")
    if value < minimum:
        raise ValidationError(field, f"The number must be at least {minimum}.")
    return value


@overload
def check_thresholds(value: object, field: str = ..., optional: Literal[False] = ...) -> dict: ...
@overload
def check_thresholds(value: object, field: str = ..., optional: bool = ...) -> dict | None: ...


def check_thresholds(value: object, field: str = "thresholds",
                     optional: bool = False) -> dict | None:
    """``{"review": r, "reject": j}`` by the one rule (:mod:`common.thresholds`), which the engine
    applies too: ``0 <= review <= 0.5 <= reject <= 1``."""
    if value is None and optional:
        return None
    try:
        return check_dict(value)
    except ThresholdsInvalid as exc:
        raise ValidationError(field, str(exc)) from None
