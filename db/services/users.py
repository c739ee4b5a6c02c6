"""User accounts: create, list, change role, (de)activate, unlock, reset and change passwords.

Rules: admins manage users (``user.manage``); everyone may change their own password. The last
active admin can be neither demoted nor deactivated (checked with the admin rows locked, so two
admins demoting each other at once cannot both succeed). Users are never deleted: inspections and
the audit log keep pointing at them; deactivate instead.

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.database import Database, from_db_time
from db.dto import UserInfo
from db.errors import Conflict, InvalidCredentials, ValidationError
from db.passwords import PasswordHasher, check_policy
from db.permissions import Actor, Role
from db.schema import User
from db.services._base import Service

_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def check_username(value: object) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not _USERNAME.match(name):
        raise ValidationError("username", "A user name has 1 to 64 letters, digits or . _ @ -, "
                                          "without spaces.")
    return name


def check_role(value: object) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError("role", "The role must be operator, supervisor or admin.") from None


def user_info(u: User) -> UserInfo:
    return UserInfo(id=u.id, username=u.username, role=Role(u.role), active=u.active,
                    failed_attempts=u.failed_attempts, locked_until=from_db_time(u.locked_until),
                    created_at=from_db_time(u.created_at),
                    last_login_at=from_db_time(u.last_login_at))


class UserService(Service):
    def __init__(self, db: Database, hasher: PasswordHasher) -> None:
        super().__init__(db)
        self._hasher = hasher

    def list(self, actor: Actor) -> list[UserInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "user.manage")
            return [user_info(u) for u in s.scalars(select(User).order_by(User.username))]

    def get(self, actor: Actor, user_id: int) -> UserInfo:
        """Admins see anyone; every user may read their own account."""
        with self._db.read() as s:
            if not (isinstance(actor, Actor) and actor.user_id == user_id):
                self._authorize(s, actor, "user.manage")
            else:
                self._authorize(s, actor, "user.change_own_password")
            return user_info(self._get(s, User, user_id, "User"))

    def create(self, actor: Actor, username: str, password: str, role: Role | str) -> UserInfo:
        with self._db.read() as s:   # refuse before the (slow) hash
            self._authorize(s, actor, "user.manage")
        username = check_username(username)
        role = check_role(role)
        check_policy(password)
        password_hash = self._hasher.hash(password)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            if s.execute(select(User.id).where(User.username == username)).first():
                raise Conflict(f"The user name {username!r} is taken.", field="username")
            user = User(username=username, password_hash=password_hash, role=role.value,
                        active=True, failed_attempts=0, created_at=self._db.now_naive())
            s.add(user)
            s.flush()
            self._audit(s, me, "user.create", f"user:{user.id}", username=username,
                        role=role.value)
            return user_info(user)

    def set_role(self, actor: Actor, user_id: int, role: Role | str) -> UserInfo:
        role = check_role(role)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            if user.role == role.value:
                return user_info(user)
            if user.role == Role.ADMIN.value and user.active:
                self._ensure_other_admin(s, user)
            old = user.role
            user.role = role.value
            self._audit(s, me, "user.set_role", f"user:{user.id}", username=user.username,
                        old=old, new=role.value)
            return user_info(user)

    def set_active(self, actor: Actor, user_id: int, active: bool) -> UserInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            if user.active == bool(active):
                return user_info(user)
            if not active and user.role == Role.ADMIN.value:
                self._ensure_other_admin(s, user)
            user.active = bool(active)
            self._audit(s, me, "user.activate" if active else "user.deactivate",
                        f"user:{user.id}", username=user.username)
            return user_info(user)

    def unlock(self, actor: Actor, user_id: int) -> UserInfo:
        """Lift a lock-out before its fifteen minutes are over."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            user.failed_attempts = 0
            user.locked_until = None
            self._audit(s, me, "user.unlock", f"user:{user.id}", username=user.username)
            return user_info(user)

    def reset_password(self, actor: Actor, user_id: int, new_password: str) -> UserInfo:
        """An admin sets someone's password (and lifts a lock-out)."""
        with self._db.read() as s:
            self._authorize(s, actor, "user.manage")
        check_policy(new_password)
        password_hash = self._hasher.hash(new_password)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            user.password_hash = password_hash
            user.failed_attempts = 0
            user.locked_until = None
            self._audit(s, me, "user.reset_password", f"user:{user.id}", username=user.username)
            return user_info(user)

    def change_own_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        with self._db.read() as s:
            me = self._authorize(s, actor, "user.change_own_password")
            stored = me.password_hash
        if not self._hasher.verify(stored, old_password):
            raise ValidationError("old_password", "The current password is wrong.")
        check_policy(new_password, "new_password")
        password_hash = self._hasher.hash(new_password)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.change_own_password")
            if me.password_hash != stored:
                raise InvalidCredentials("Your password was changed meanwhile; please try again.")
            me.password_hash = password_hash
            self._audit(s, me, "user.change_own_password", f"user:{me.id}")

    @staticmethod
    def _ensure_other_admin(s: Session, user: User) -> None:
        # Lock all active admin rows (PostgreSQL) so concurrent demotions serialise on this check.
        admins = s.execute(select(User.id).where(User.role == Role.ADMIN.value, User.active)
                           .with_for_update()).scalars().all()
        if not any(a != user.id for a in admins):
            raise Conflict("This is the last active admin: make another user an admin first.",
                           field="role")
