"""Signing in and creating the first admin.

Rules: five failed sign-ins in a row lock the account for fifteen minutes (the counter restarts
after the lock and on every success); an inactive account cannot sign in and gets the same message
as a wrong password, so the screen does not reveal which accounts exist. Every success and failure
is audited. No account and no password exist until the first admin is created explicitly.

Threading: safe to call from any thread; each call is one short transaction (plus the password
hash, which takes tens of milliseconds by design: call it from a worker thread in the GUI).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.database import Database, from_db_time
from db.errors import AccountLocked, Conflict, InvalidCredentials
from db.passwords import PasswordHasher, check_policy
from db.permissions import Actor, Role
from db.schema import AuditEvent, User
from db.services._base import SYSTEM, Service
from db.services.users import check_username

MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)


class AuthService(Service):
    def __init__(self, db: Database, hasher: PasswordHasher) -> None:
        super().__init__(db)
        self._hasher = hasher

    def has_users(self) -> bool:
        with self._db.read() as s:
            return s.execute(select(func.count(User.id))).scalar_one() > 0

    def create_first_admin(self, username: str, password: str) -> Actor:
        """Create the first account (an admin); refused with Conflict once any user exists."""
        username = check_username(username)
        check_policy(password)
        password_hash = self._hasher.hash(password)   # slow: outside the transaction
        with self._db.write() as s:
            if not self._db.is_sqlite:
                # Two stations running the first-run dialog at once: only one may win.
                s.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
            if s.execute(select(func.count(User.id))).scalar_one() > 0:
                raise Conflict("An account already exists; sign in as an admin to add users.")
            now = self._db.now_naive()
            user = User(username=username, password_hash=password_hash, role=Role.ADMIN.value,
                        active=True, failed_attempts=0, created_at=now)
            s.add(user)
            s.flush()
            s.add(AuditEvent(at=now, user_id=user.id, username=SYSTEM,
                             action="user.create_first_admin", target=f"user:{user.id}",
                             details={"username": username}))
            return Actor(user.id, user.username, Role.ADMIN)

    def sign_in(self, username: str, password: str) -> Actor:
        """The signed-in Actor, or InvalidCredentials / AccountLocked (both audited)."""
        name = username.strip() if isinstance(username, str) else ""
        with self._db.read() as s:
            stored = s.execute(select(User.password_hash).where(User.username == name)).scalar()
        # Verify outside the transaction (slow by design); unknown names verify against a dummy.
        ok = self._hasher.verify(stored, password if isinstance(password, str) else "")
        new_hash = (self._hasher.hash(password)
                    if ok and stored is not None and self._hasher.needs_rehash(stored) else None)
        error: Exception | None = None
        actor: Actor | None = None
        with self._db.write() as s:
            user = s.execute(select(User).where(User.username == name).with_for_update()).scalar()
            now = self._db.now_naive()
            if user is None:
                self._audit_fail(s, None, name, "unknown user")
                error = InvalidCredentials()
            elif user.locked_until is not None and user.locked_until > now:
                self._audit_fail(s, user, name, "locked")
                error = AccountLocked(from_db_time(user.locked_until))
            elif user.password_hash != stored:
                # The password changed between our read and now; do not judge on a stale hash.
                error = InvalidCredentials("Please try again.")
            elif not ok:
                user.failed_attempts += 1
                if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
                    user.failed_attempts = 0
                    user.locked_until = now + LOCK_DURATION
                    self._audit_fail(s, user, name, "wrong password; account locked")
                    error = AccountLocked(from_db_time(user.locked_until))
                else:
                    self._audit_fail(s, user, name, "wrong password")
                    error = InvalidCredentials()
            elif not user.active:
                self._audit_fail(s, user, name, "account disabled")
                error = InvalidCredentials()
            else:
                user.failed_attempts = 0
                user.locked_until = None
                user.last_login_at = now
                if new_hash:
                    user.password_hash = new_hash
                s.add(AuditEvent(at=now, user_id=user.id, username=user.username,
                                 action="auth.sign_in", target=f"user:{user.id}", details={}))
                actor = Actor(user.id, user.username, Role(user.role))
        # Raised after the block so the counter and the audit event are committed.
        if error is not None:
            raise error
        assert actor is not None
        return actor

    def _audit_fail(self, s: Session, user: User | None, name: str, reason: str) -> None:
        s.add(AuditEvent(at=self._db.now_naive(), user_id=user.id if user else None,
                         username=name[:64], action="auth.sign_in_failed",
                         target=f"user:{user.id}" if user else "", details={"reason": reason}))
