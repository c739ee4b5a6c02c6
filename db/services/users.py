"""User accounts: create, list, change role, (de)activate, unlock, reset and change passwords,
force a password change at the next sign-in.

Rules: admins manage users (``user.manage``); everyone may change their own password. The last
active admin can be neither demoted nor deactivated (checked with the admin rows locked, so two
admins demoting each other at once cannot both succeed). Users are never deleted: inspections and
the audit log keep pointing at them; deactivate instead. User names are unique by their
normalised key (:mod:`db.names`): ``Otto`` cannot join ``otto``.

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.database import Database, from_db_time
from db.dto import UserInfo
from db.errors import Conflict, InvalidCredentials, ValidationError
from db.names import has_lone_surrogate, name_key, throttle_key
from db.passwords import PasswordHasher, check_policy
from db.permissions import Actor, Role
from db.schema import SignInThrottle, User
from db.services._base import Service

_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def check_username(value: object) -> str:
    """The user name as it will be stored: NFKC-normalised (a full-width ``ｏｔｔｏ`` is
    ``otto``), then 1 to 64 ASCII letters, digits or . _ @ -."""
    raw = value.strip() if isinstance(value, str) and not has_lone_surrogate(value) else ""
    name = unicodedata.normalize("NFKC", raw)
    if not _USERNAME.match(name):
        raise ValidationError("username", "A user name has 1 to 64 letters, digits or . _ @ -, "
                                          "without spaces.")
    return name


def check_role(value: object) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError("role", "The role must be operator, supervisor or admin.") from None


def user_info(s: Session, u: User, throttles: dict[str, SignInThrottle] | None = None
              ) -> UserInfo:
    """``throttles`` (name hash -> row) saves one query per user when listing many."""
    key = throttle_key(u.username)
    t = throttles.get(key) if throttles is not None else s.get(SignInThrottle, key)
    return UserInfo(id=u.id, username=u.username, role=Role(u.role), active=u.active,
                    failed_attempts=t.failed_attempts if t else 0,
                    locked_until=from_db_time(t.locked_until) if t else None,
                    created_at=from_db_time(u.created_at),
                    last_login_at=from_db_time(u.last_login_at),
                    must_change_password=bool(u.must_change_password))


def find_by_name(s: Session, name: str, lock: bool = False) -> User | None:
    """The user whose normalised key matches ``name``, however it was typed."""
    q = select(User).where(User.username_key == name_key(name))
    return s.execute(q.with_for_update() if lock else q).scalar()


class UserService(Service):
    def __init__(self, db: Database, hasher: PasswordHasher) -> None:
        super().__init__(db)
        self._hasher = hasher

    def list(self, actor: Actor) -> list[UserInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "user.manage")
            users = s.scalars(select(User).order_by(User.username)).all()
            hashes = [throttle_key(u.username) for u in users]
            throttles = {t.name_hash: t for t in s.scalars(
                select(SignInThrottle).where(SignInThrottle.name_hash.in_(hashes)))}
            return [user_info(s, u, throttles) for u in users]

    def get(self, actor: Actor, user_id: int) -> UserInfo:
        """Admins see anyone; every user may read their own account."""
        with self._db.read() as s:
            if not (isinstance(actor, Actor) and actor.user_id == user_id):
                self._authorize(s, actor, "user.manage")
            else:
                self._authorize(s, actor, "user.change_own_password")
            return user_info(s, self._get(s, User, user_id, "User"))

    def create(self, actor: Actor, username: str, password: str, role: Role | str) -> UserInfo:
        with self._db.read() as s:   # refuse before the (slow) hash
            self._authorize(s, actor, "user.manage")
        username = check_username(username)
        role = check_role(role)
        check_policy(password, user_inputs=[username])
        password_hash = self._hasher.hash(password)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            taken = find_by_name(s, username)
            if taken is not None:
                same = "" if taken.username == username else f" (as {taken.username!r})"
                raise Conflict(f"The user name {username!r} is taken{same}.", field="username")
            user = User(username=username, username_key=name_key(username),
                        password_hash=password_hash, role=role.value, active=True,
                        must_change_password=False, created_at=self._db.now_naive())
            s.add(user)
            s.flush()
            self._audit(s, me, "user.create", f"user:{user.id}", username=username,
                        role=role.value)
            return user_info(s, user)

    def set_role(self, actor: Actor, user_id: int, role: Role | str) -> UserInfo:
        role = check_role(role)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            if user.role == role.value:
                return user_info(s, user)
            if user.role == Role.ADMIN.value and user.active:
                self._ensure_other_admin(s, user)
            old = user.role
            user.role = role.value
            self._audit(s, me, "user.set_role", f"user:{user.id}", username=user.username,
                        old=old, new=role.value)
            return user_info(s, user)

    def set_active(self, actor: Actor, user_id: int, active: bool) -> UserInfo:
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            if user.active == bool(active):
                return user_info(s, user)
            if not active and user.role == Role.ADMIN.value:
                self._ensure_other_admin(s, user)
            user.active = bool(active)
            self._audit(s, me, "user.activate" if active else "user.deactivate",
                        f"user:{user.id}", username=user.username)
            return user_info(s, user)

    def unlock(self, actor: Actor, user_id: int) -> UserInfo:
        """Lift a lock-out (and forget the failed sign-ins) before it is over."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            clear_throttle(s, user.username)
            self._audit(s, me, "user.unlock", f"user:{user.id}", username=user.username)
            return user_info(s, user)

    def reset_password(self, actor: Actor, user_id: int, new_password: str, *,
                       force_change: bool = False) -> UserInfo:
        """An admin sets someone's password (and lifts a lock-out); ``force_change``: the user
        must choose their own at the next sign-in (for a temporary password)."""
        with self._db.read() as s:
            self._authorize(s, actor, "user.manage")
            name = self._get(s, User, user_id, "User").username
        check_policy(new_password, user_inputs=[name])
        password_hash = self._hasher.hash(new_password)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            user.password_hash = password_hash
            user.must_change_password = bool(force_change)
            clear_throttle(s, user.username)
            self._audit(s, me, "user.reset_password", f"user:{user.id}", username=user.username,
                        force_change=bool(force_change))
            return user_info(s, user)

    def force_password_change(self, actor: Actor, user_id: int, on: bool) -> UserInfo:
        """Ask (``on``) a user to choose a new password at the next sign-in, or take it back.
        Until they do, every service call but ``change_own_password`` is refused for them."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.manage")
            user = self._get(s, User, user_id, "User", lock=True)
            if user.must_change_password != bool(on):
                user.must_change_password = bool(on)
                self._audit(s, me, "user.force_password_change", f"user:{user.id}",
                            username=user.username, on=bool(on))
            return user_info(s, user)

    def change_own_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        with self._db.read() as s:
            me = self._authorize(s, actor, "user.change_own_password")
            stored = me.password_hash
            name = me.username
        if not self._hasher.verify(stored, old_password):
            raise ValidationError("old_password", "The current password is wrong.")
        check_policy(new_password, "new_password", user_inputs=[name])
        if self._hasher.verify(stored, new_password):
            raise ValidationError("new_password", "Choose a password different from the "
                                                  "current one.")
        password_hash = self._hasher.hash(new_password)
        with self._db.write() as s:
            me = self._authorize(s, actor, "user.change_own_password")
            if me.password_hash != stored:
                raise InvalidCredentials("Your password was changed meanwhile; please try again.")
            me.password_hash = password_hash
            me.must_change_password = False
            self._audit(s, me, "user.change_own_password", f"user:{me.id}")

    @staticmethod
    def _ensure_other_admin(s: Session, user: User) -> None:
        # Lock all active admin rows (PostgreSQL) so concurrent demotions serialise on this check.
        admins = s.execute(select(User.id).where(User.role == Role.ADMIN.value, User.active)
                           .with_for_update()).scalars().all()
        if not any(a != user.id for a in admins):
            raise Conflict("This is the last active admin: make another user an admin first.",
                           field="role")


def clear_throttle(s: Session, username: str) -> None:
    s.execute(delete(SignInThrottle).where(SignInThrottle.name_hash == throttle_key(username)))
